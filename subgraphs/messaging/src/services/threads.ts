import { forbidden, notFound, parsePage, toConnection, type Access, type AuditTrail, type Connection, type Page, type PageArgs } from '@portal/kit';
import type { DraftRow, MessageRow, ThreadRow } from '../db/entities';
import type { Folder, ReaderScope, ThreadPage } from '../db/store';
import type { MessagingLoaders } from '../loaders';
import { canReply } from './rules';

const THREAD = 'Message thread';

/**
 * Whose threads a viewer reads, and with which read state: a patient reads
 * all of their own threads; a practitioner only those of the care teams they
 * are in now (asked of identity, not read from the token); anyone else none.
 */
export async function scopeOf(access: Access): Promise<ReaderScope> {
  const viewer = access.viewer;
  if (viewer?.role === 'PATIENT') return { readerId: viewer.personId, teamIds: null };
  if (viewer?.role === 'PRACTITIONER') return { readerId: viewer.personId, teamIds: await access.careTeamIds() };
  return { readerId: viewer?.personId ?? '', teamIds: [] };
}

/**
 * Decides who sees which thread and reads them through the request's loaders.
 * Every thread it hands out has been authorised for the viewer, so a thread's
 * own fields (messages, unread) need no further check.
 */
export class ThreadService {
  constructor(
    private readonly access: Access,
    private readonly audit: AuditTrail,
    private readonly loaders: MessagingLoaders,
    private readonly now: Date,
  ) {}

  /** One thread of the viewer's; another patient's thread is NOT_FOUND, exactly like a missing one. */
  async thread(id: string): Promise<ThreadRow> {
    this.access.requireViewer();
    const thread = await this.loaders.thread.load(id);
    if (!thread || !(await this.mayRead(thread))) throw notFound(THREAD);
    return thread;
  }

  /** A patient's threads in one of the viewer's folders, newest first. */
  async patientThreads(patientId: string, folder: Folder, args: PageArgs): Promise<Connection<ThreadRow>> {
    await this.access.assert(patientId, 'message');
    const page = parsePage(args, 10);
    const result = await this.loaders.patientThreads.load({ ownerId: patientId, folder, page });
    return this.connection(result, page);
  }

  /** All threads of a care team, newest first: for the team's own practitioners only. */
  async teamThreads(careTeamId: string, args: PageArgs): Promise<Connection<ThreadRow>> {
    const viewer = this.access.requireViewer();
    if (viewer.role !== 'PRACTITIONER' || !(await this.access.careTeamIds()).includes(careTeamId)) {
      throw forbidden('Only members of this care team can read its messages.');
    }
    const page = parsePage(args, 10);
    const result = await this.loaders.careTeamThreads.load({ ownerId: careTeamId, folder: null, page });
    const conn = this.connection(result, page);
    // Care access is answered by identity and may lag behind a team's membership:
    // a thread of a patient the practitioner no longer treats is left out, not shown.
    const allowed = await Promise.all(conn.edges.map((e) => this.access.check(e.node.patientId, 'message')));
    return { ...conn, edges: conn.edges.filter((_, i) => allowed[i]) };
  }

  /** Messages in the patient's threads that the viewer has not read (their own messages excluded). */
  async unreadMessageCount(patientId: string): Promise<number> {
    await this.access.assert(patientId, 'message');
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

  private async mayRead(thread: ThreadRow): Promise<boolean> {
    const viewer = this.access.requireViewer();
    // An unsent new thread is its patient's alone: not even their care team sees it yet.
    if (thread.state === 'DRAFT' && !(viewer.role === 'PATIENT' && viewer.personId === thread.patientId)) {
      this.audit.record(thread.patientId, 'message', 'read', 'DENIED');
      return false;
    }
    if (viewer.role === 'PRACTITIONER' && !(await this.access.careTeamIds()).includes(thread.careTeamId)) {
      this.audit.record(thread.patientId, 'message', 'read', 'DENIED');
      return false;
    }
    return this.access.check(thread.patientId, 'message');
  }

  private connection(result: ThreadPage, page: Page): Connection<ThreadRow> {
    return toConnection(result.rows, page, result.totalCount, (t) => ({ sort: t.lastMessageAt, id: t.id }), (t) => t);
  }
}
