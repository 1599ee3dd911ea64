import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { badInput, notFound, PortalError, type Access, type Viewer } from '@portal/kit';
import { ErrorCode } from '../errors';
import { runChange } from '../db/changes';
import type { MessageCategory, MessageRow, SenderRole, ThreadRow } from '../db/entities';
import type { MessagingStore } from '../db/store';
import { isUniqueViolation, parseId, parseIdempotencyKey } from '@portal/kit';
import type { MessagingLoaders } from '../loaders';
import { policy, type MessagingEntry } from '../policy';
import { threadSubject } from './threads';
import { canReply, REPLY_WINDOW_DAYS } from './rules';
import { checkBody, checkSenderName, checkSubject } from './validation';

const THREAD = 'Message thread';

/**
 * What new messages store as senderName. Messaging owns no names (identity
 * does, and they change), and asking identity on every send would tie sending
 * to identity's availability; so a new message stores a label, and clients
 * show the person's current name from `MessageThread.patient` (the only
 * patient who can write in a thread) or `Message.practitioner`.
 */
export const SENDER_LABEL = { PATIENT: 'Patient', PRACTITIONER: 'Care team member', SYSTEM: 'Your care team' } as const;

export interface SendMessageInput {
  /** The patient the thread is about: the viewer themself (default), or someone they are a proxy for with the MESSAGES scope. */
  patientId?: string | null;
  careTeamId: string;
  category: MessageCategory;
  subject: string;
  body: string;
  idempotencyKey?: string | null;
}

export interface ReplyToThreadInput {
  threadId: string;
  body: string;
  idempotencyKey?: string | null;
}

export interface PostCareTeamMessageInput {
  patientId: string;
  careTeamId: string;
  category: MessageCategory;
  subject: string;
  body: string;
  idempotencyKey: string;
  senderName?: string | null;
}

export interface Sender {
  id: string;
  role: SenderRole;
  name: string;
}

interface NewThread {
  patientId: string;
  careTeamId: string;
  category: MessageCategory;
  subject: string;
  body: string;
  sender: Sender;
  key: string | null;
}

const conflict = () =>
  new PortalError(ErrorCode.CONFLICT, 'This idempotency key was already used for a different message. Use a new key for a new message.', {
    field: 'idempotencyKey',
  });

/**
 * Sends messages and changes a reader's state of a thread: the write side's
 * rules and authorization. Every change is decided and written inside
 * `runChange`, so duplicates sent at the same moment store one message.
 */
export class MessageWriter {
  constructor(
    private readonly access: Access,
    private readonly db: DataSource,
    private readonly store: MessagingStore,
    private readonly loaders: MessagingLoaders,
  ) {}

  /** A patient starts a thread with one of their own care teams (or, as a proxy, with one of the patient's). */
  async sendMessage(input: SendMessageInput): Promise<ThreadRow> {
    const viewer = await policy.viewer('Mutation.sendMessage', this.access);
    const patientId = input.patientId == null ? viewer.personId : parseId(input.patientId, 'patientId');
    const subject = checkSubject(input.subject);
    const body = checkBody(input.body);
    const key = parseIdempotencyKey(input.idempotencyKey);
    const careTeamId = parseId(input.careTeamId, 'careTeamId');
    await this.assertMayStart('Mutation.sendMessage', patientId);
    await this.assertOwnCareTeam(careTeamId, 'Mutation.sendMessage#careTeam', patientId);
    await policy.assert('Mutation.sendMessage', this.access, patientId);
    const sender = this.senderOf(viewer);
    return this.startThread({ patientId, careTeamId, category: input.category, subject, body, key, sender });
  }

  /** Another service (never a person) starts a thread from a care team to a patient. */
  async postCareTeamMessage(input: PostCareTeamMessageInput): Promise<ThreadRow> {
    const viewer = this.access.requireViewer();
    // Refused before the input is read: the refusal is audited against the patient named.
    if (!(await policy.may('Mutation.postCareTeamMessage', this.access, input.patientId))) policy.refuse('Mutation.postCareTeamMessage', this.access, input.patientId);
    const patientId = parseId(input.patientId, 'patientId');
    const careTeamId = parseId(input.careTeamId, 'careTeamId');
    const subject = checkSubject(input.subject);
    const body = checkBody(input.body);
    const key = parseIdempotencyKey(input.idempotencyKey);
    const name = checkSenderName(input.senderName, SENDER_LABEL.SYSTEM);
    await policy.assert('Mutation.postCareTeamMessage', this.access, patientId);
    const sender: Sender = { id: viewer.personId, role: 'SYSTEM', name };
    return this.startThread({ patientId, careTeamId, category: input.category, subject, body, key, sender });
  }

  /** The patient of the thread (or their proxy), or a practitioner of its care team, replies; returns the message and its thread. */
  async reply(input: ReplyToThreadInput): Promise<{ message: MessageRow; thread: ThreadRow }> {
    const viewer = await this.requireThreadWriter('Mutation.replyToThread');
    const body = checkBody(input.body);
    const key = parseIdempotencyKey(input.idempotencyKey);
    const thread = await this.writableThread(input.threadId, 'Mutation.replyToThread');
    const sender = this.senderOf(viewer);
    const message = await runChange(this.db, async () => {
      const replay = key ? await this.replayedReply(thread.id, sender.id, key, body) : null;
      if (replay) return replay;
      this.assertReplyable(thread);
      const row: MessageRow = { id: randomUUID(), threadId: thread.id, senderId: sender.id, senderRole: sender.role, senderName: sender.name, body, sentAt: new Date().toISOString(), idempotencyKey: key };
      try {
        await this.store.transaction(async (tx) => {
          await tx.insertMessage(row);
          await tx.messageAdded(thread.id, row.sentAt);
        });
      } catch (e) {
        // A duplicate sent at the same moment won the unique index: answer with its message.
        const winner = key && isUniqueViolation(e) ? await this.replayedReply(thread.id, sender.id, key, body) : null;
        if (winner) return winner;
        throw e;
      }
      return row;
    });
    this.loaders.forget(thread.id);
    return { message, thread };
  }

  /** Everything in the thread is read, for the viewer only. */
  async markRead(threadId: string): Promise<ThreadRow> {
    const viewer = await this.requireThreadWriter('Mutation.markThreadRead');
    const thread = await this.writableThread(threadId, 'Mutation.markThreadRead');
    const now = new Date().toISOString();
    // A message stamped by a clock slightly ahead of this one is read too: the viewer has it in front of them.
    await runChange(this.db, () => this.store.transaction((tx) => tx.markRead(thread.id, viewer.personId, now > thread.lastMessageAt ? now : thread.lastMessageAt)));
    this.loaders.forget(thread.id);
    return thread;
  }

  /** The thread moves to the viewer's ARCHIVE, for the viewer only, until a new message arrives. */
  async archive(threadId: string): Promise<ThreadRow> {
    const viewer = await this.requireThreadWriter('Mutation.archiveThread');
    const thread = await this.writableThread(threadId, 'Mutation.archiveThread');
    await runChange(this.db, () => this.store.transaction((tx) => tx.archive(thread.id, viewer.personId, new Date().toISOString())));
    this.loaders.forget(thread.id);
    return thread;
  }

  // ---------------------------------------------------------------- shared with drafts

  /** Only the patient and the practitioners of their care team write in a thread: not pharmacists, administrators or services. */
  requireThreadWriter(entry: MessagingEntry): Promise<Viewer> {
    return policy.viewer(entry, this.access);
  }

  /** The viewer as a sender: a proxy writes as PATIENT under their own person id (`Message.writtenByProxy` tells them apart). */
  senderOf(viewer: Viewer): Sender {
    return viewer.role === 'PATIENT'
      ? { id: viewer.personId, role: 'PATIENT', name: SENDER_LABEL.PATIENT }
      : { id: viewer.personId, role: 'PRACTITIONER', name: SENDER_LABEL.PRACTITIONER };
  }

  /**
   * A thread the viewer may write in (or change their state of): the patient's
   * own, or one of a practitioner's care teams; anything else is NOT_FOUND,
   * exactly like a missing thread.
   */
  async writableThread(id: string, entry: MessagingEntry): Promise<ThreadRow> {
    await this.requireThreadWriter(entry);
    const thread = await this.store.threadById(parseId(id, 'threadId'));
    if (!thread) throw notFound(THREAD);
    await policy.assert(entry, this.access, threadSubject(thread));
    return thread;
  }

  /**
   * Whether the viewer may start a thread for this patient at all (themself, or
   * as a proxy with MESSAGES), asked before the care team so that a proxy's
   * refusal is not about the team; refused and audited here, allowed audited
   * by the caller once the team is checked too.
   */
  async assertMayStart(entry: MessagingEntry, patientId: string): Promise<void> {
    if (!(await policy.may(entry, this.access, patientId))) policy.refuse(entry, this.access, patientId);
  }

  /**
   * A patient writes only to a care team they belong to now (identity's answer,
   * not the token's snapshot); a proxy, for `patientId`, only to a team the
   * patient already corresponds with.
   */
  async assertOwnCareTeam(careTeamId: string, entry: MessagingEntry, patientId: string = this.access.requireViewer().personId): Promise<void> {
    const teamId = parseId(careTeamId, 'careTeamId');
    const self = patientId === this.access.requireViewer().personId;
    const patientWritesWithTeam = !self && (await this.store.patientHasTeamThread(patientId, teamId));
    await policy.assert(entry, this.access, { patientId, careTeamId: teamId, patientWritesWithTeam });
  }

  assertReplyable(thread: ThreadRow): void {
    if (thread.state === 'DRAFT') throw badInput('This thread has not been sent yet: send its draft with sendMessageDraft.', 'threadId');
    if (thread.source === 'TRICARE_ONLINE') {
      throw new PortalError(ErrorCode.REPLY_WINDOW_CLOSED, 'This thread was carried over from TRICARE Online and is read-only. Start a new thread instead.');
    }
    if (!canReply(thread, new Date())) {
      throw new PortalError(
        ErrorCode.REPLY_WINDOW_CLOSED,
        `The newest message in this thread is more than ${REPLY_WINDOW_DAYS} days old, so it no longer takes replies. Start a new thread instead.`,
      );
    }
  }

  // ---------------------------------------------------------------- new threads and retries

  private startThread(t: NewThread): Promise<ThreadRow> {
    return runChange(this.db, async () => {
      const replay = await this.replayedThread(t);
      if (replay) return replay;
      const sentAt = new Date().toISOString();
      const thread: ThreadRow = {
        id: randomUUID(),
        patientId: t.patientId,
        careTeamId: t.careTeamId,
        subject: t.subject,
        category: t.category,
        source: 'MHS_GENESIS',
        state: 'OPEN',
        sensitivity: 'NORMAL',
        createdAt: sentAt,
        lastMessageAt: sentAt,
      };
      const message: MessageRow = { id: randomUUID(), threadId: thread.id, senderId: t.sender.id, senderRole: t.sender.role, senderName: t.sender.name, body: t.body, sentAt, idempotencyKey: t.key };
      try {
        await this.store.transaction(async (tx) => {
          await tx.insertThread(thread);
          await tx.insertMessage(message);
        });
      } catch (e) {
        // A duplicate sent at the same moment won the unique index; this transaction stored nothing.
        const winner = t.key && isUniqueViolation(e) ? await this.replayedThread(t) : null;
        if (winner) return winner;
        throw e;
      }
      return thread;
    });
  }

  /** The thread a send with this key already started, or null; CONFLICT when the key went with another message. */
  private async replayedThread(t: NewThread): Promise<ThreadRow | null> {
    if (!t.key) return null;
    const first = await this.store.messageBySenderKey(t.sender.id, t.key);
    if (!first) return null;
    const thread = await this.store.threadById(first.threadId);
    const same =
      thread !== null &&
      thread.patientId === t.patientId &&
      thread.careTeamId === t.careTeamId &&
      thread.category === t.category &&
      thread.subject === t.subject &&
      first.body === t.body &&
      first.senderName === t.sender.name &&
      (await this.store.firstMessageId(thread.id)) === first.id;
    if (!same) throw conflict();
    return thread;
  }

  /** The reply a send with this key already stored, or null; CONFLICT when the key went with another message. */
  private async replayedReply(threadId: string, senderId: string, key: string, body: string): Promise<MessageRow | null> {
    const first = await this.store.messageBySenderKey(senderId, key);
    if (!first) return null;
    if (first.threadId !== threadId || first.body !== body || (await this.store.firstMessageId(threadId)) === first.id) throw conflict();
    return first;
  }
}
