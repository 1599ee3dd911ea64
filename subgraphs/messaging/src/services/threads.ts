import { notFound, parsePage, toConnection, type Access, type Connection, type Page, type PageArgs } from '@portal/kit';
import type { DraftRow, MessageRow, ThreadRow } from '../db/entities';
import type { Folder } from '../db/store';
import type { MessagingLoaders } from '../loaders';
import { policy, readerScopeOf } from '../policy';
import { canReply } from './rules';

const THREAD = 'Message thread';

/** Whose threads a viewer reads, and with which read state: decided in `../policy.ts`. */
export const scopeOf = readerScopeOf;

/** The facts of a thread its rules in `../policy.ts` look at. */
export const threadSubject = (t: Pick<ThreadRow, 'patientId' | 'careTeamId' | 'state' | 'sensitivity'>, ownDraft = false) => ({
  patientId: t.patientId,
  careTeamId: t.careTeamId,
  state: t.state,
  // A proxy whose grant hides sensitive records is refused this thread (`proxyFor`).
  sensitive: t.sensitivity !== 'NORMAL',
  // An unsent new thread is seen only by whoever drafted it (the draft is theirs).
  ownDraft,
});

type ThreadByIdEntry = 'Query.messageThread' | 'MessageThread.__resolveReference' | 'MessageDraft.thread';

/**
 * Reads threads through the request's loaders, asking `../policy.ts` who sees
 * which (never by role). Every thread it hands out has been authorised for the viewer, so a thread's
 * own fields (messages, unread) need no further check.
 */
export class ThreadService {
  constructor(
    private readonly access: Access,
    private readonly loaders: MessagingLoaders,
    private readonly now: Date,
  ) {}

  /** One thread of the viewer's; another patient's thread is NOT_FOUND, exactly like a missing one. */
  async thread(id: string, entry: ThreadByIdEntry = 'Query.messageThread'): Promise<ThreadRow> {
    await policy.viewer(entry, this.access);
    const thread = await this.loaders.thread.load(id);
    if (!thread) throw notFound(THREAD);
    // Only an unsent thread asks whose draft it is (the viewer's own draft in it, one per author).
    const ownDraft = thread.state === 'DRAFT' && (await this.loaders.draftInThread.load(thread.id)) !== null;
    await policy.assert(entry, this.access, threadSubject(thread, ownDraft));
    return thread;
  }

  /** A patient's threads in one of the viewer's folders, newest first. */
  async patientThreads(patientId: string, folder: Folder, args: PageArgs): Promise<Connection<ThreadRow>> {
    await policy.assert('Patient.messageThreads', this.access, patientId);
    const page = parsePage(args, 10);
    const list = { ownerId: patientId, folder, patientIds: null };
    const rows = await this.loaders.patientThreads.load({ ...list, page });
    return this.connection(rows, page, () => this.loaders.patientThreadCount.load(list));
  }

  /** All threads of a care team, newest first: for the team's own practitioners only. */
  async teamThreads(careTeamId: string, args: PageArgs): Promise<Connection<ThreadRow>> {
    await policy.viewer('CareTeam.threads', this.access, { careTeamId });
    const page = parsePage(args, 10);
    // Care access is answered by identity and may lag behind a team's membership: the
    // threads of a patient the practitioner no longer treats are left out by the query
    // itself (a page is never short while more threads exist, and totalCount counts the
    // same list), and that patient's refusal is audited.
    const patients = (await this.loaders.careTeamPatients.load(careTeamId)).map((r) => r.patientId);
    const subject = (patientId: string) => ({ patientId, careTeamId, state: 'OPEN' as const });
    const treats = await Promise.all(patients.map((p) => policy.may('CareTeam.threads', this.access, subject(p))));
    await Promise.all(patients.filter((_, i) => !treats[i]).map((p) => policy.check('CareTeam.threads', this.access, subject(p))));
    const list = { ownerId: careTeamId, folder: null, patientIds: patients.filter((_, i) => treats[i]).sort() };
    const rows = await this.loaders.careTeamThreads.load({ ...list, page });
    const conn = this.connection(rows, page, () => this.loaders.careTeamThreadCount.load(list));
    // Each thread handed out is decided (and audited) on its own; one whose access ended just now is still left out.
    const allowed = await Promise.all(conn.edges.map((e) => policy.check('CareTeam.threads', this.access, threadSubject(e.node))));
    return { ...conn, edges: conn.edges.filter((_, i) => allowed[i]) };
  }

  /** Messages in the patient's threads that the viewer has not read (their own messages excluded). */
  async unreadMessageCount(patientId: string): Promise<number> {
    await policy.assert('Patient.unreadMessageCount', this.access, patientId);
    return (await this.loaders.unreadOfPatient.load(patientId))?.unread ?? 0;
  }

  /** Whether someone else wrote in the thread since the viewer last read it. */
  async unread(threadId: string): Promise<boolean> {
    return ((await this.loaders.unreadInThread.load(threadId))?.unread ?? 0) > 0;
  }

  /** Oldest first. */
  messages(threadId: string): Promise<MessageRow[]> {
    return this.loaders.messages.load(threadId);
  }

  canReply(thread: Pick<ThreadRow, 'source' | 'lastMessageAt' | 'state'>): boolean {
    return canReply(thread, this.now);
  }

  /** The viewer's own unsent draft in the thread, if any: drafts are never shown to anyone else. */
  async draft(threadId: string): Promise<DraftRow | null> {
    return this.loaders.draftInThread.load(threadId);
  }

  private connection(rows: ThreadRow[], page: Page, count: () => Promise<number>): Connection<ThreadRow> {
    return toConnection(rows, page, count, (t) => ({ sort: t.lastMessageAt, id: t.id }), (t) => t);
  }
}
