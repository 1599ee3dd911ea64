import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { badInput, notFound, parseId, type Access } from '@portal/kit';
import { runChange } from '../db/changes';
import type { DraftRow, MessageCategory, MessageRow, ThreadRow } from '../db/entities';
import type { MessagingStore } from '../db/store';
import { isUniqueViolation } from '@portal/kit';
import type { MessagingLoaders } from '../loaders';
import { policy, type MessagingEntry } from '../policy';
import { checkBody, checkDraftBody, checkDraftSubject, checkSubject } from './validation';
import type { MessageWriter } from './writes';

const DRAFT = 'Message draft';

export interface SaveDraftInput {
  threadId?: string | null;
  /** New thread only: the patient it is about (default: the viewer), e.g. a child their parent writes for. */
  patientId?: string | null;
  careTeamId?: string | null;
  category?: MessageCategory | null;
  subject?: string | null;
  body: string;
}

export interface UpdateDraftInput {
  draftId: string;
  careTeamId?: string | null;
  category?: MessageCategory | null;
  subject?: string | null;
  body?: string | null;
}

const NEW_THREAD_FIELDS = ['careTeamId', 'category', 'subject'] as const;

/**
 * Drafts: a reply draft in an open thread, or a patient's draft of a new
 * thread, stored as a DRAFT thread that only its patient sees (in DRAFTS)
 * until it is sent. A sent draft's message takes the draft's id, so sending
 * the same draft twice stores one message.
 */
export class DraftService {
  constructor(
    private readonly access: Access,
    private readonly db: DataSource,
    private readonly store: MessagingStore,
    private readonly loaders: MessagingLoaders,
    private readonly writer: MessageWriter,
  ) {}

  async save(input: SaveDraftInput): Promise<DraftRow> {
    const viewer = await this.writer.requireThreadWriter('Mutation.saveMessageDraft');
    const body = checkDraftBody(input.body);
    if (input.threadId != null) {
      for (const field of NEW_THREAD_FIELDS) if (input[field] != null) throw badInput('A reply draft takes only a body: its thread has the rest.', field);
      const thread = await this.writer.writableThread(input.threadId, 'Mutation.saveMessageDraft');
      this.writer.assertReplyable(thread);
      const draft = await runChange(this.db, () => this.saveReply(thread, viewer.personId, body));
      this.loaders.forget(thread.id);
      return draft;
    }
    const authorId = (await policy.viewer('Mutation.saveMessageDraft#newThread', this.access)).personId;
    const patientId = input.patientId == null ? authorId : parseId(input.patientId, 'patientId');
    if (input.careTeamId == null) throw badInput('Choose the care team to write to, or give the threadId of a reply draft.', 'careTeamId');
    if (input.category == null) throw badInput('Choose a category for the new thread.', 'category');
    const subject = checkDraftSubject(input.subject ?? '');
    await this.writer.assertMayStart('Mutation.saveMessageDraft#newThread', patientId);
    await this.writer.assertOwnCareTeam(input.careTeamId, 'Mutation.saveMessageDraft#careTeam', patientId);
    await policy.assert('Mutation.saveMessageDraft#newThread', this.access, patientId);
    const now = new Date().toISOString();
    const thread: ThreadRow = {
      id: randomUUID(),
      patientId,
      careTeamId: input.careTeamId,
      subject,
      category: input.category,
      source: 'MHS_GENESIS',
      state: 'DRAFT',
      sensitivity: 'NORMAL',
      createdAt: now,
      lastMessageAt: now,
    };
    const draft: DraftRow = { id: randomUUID(), authorId, patientId, careTeamId: thread.careTeamId, threadId: thread.id, category: null, subject: null, body, createdAt: now, updatedAt: now };
    await runChange(this.db, () =>
      this.store.transaction(async (tx) => {
        await tx.insertThread(thread);
        await tx.insertDraft(draft);
      }),
    );
    return draft;
  }

  async update(input: UpdateDraftInput): Promise<DraftRow> {
    const draft = await this.ownDraft(input.draftId, 'Mutation.updateMessageDraft');
    const thread = await this.threadOf(draft);
    const body = input.body != null ? checkDraftBody(input.body) : draft.body;
    const now = new Date().toISOString();
    if (thread.state === 'OPEN') {
      for (const field of NEW_THREAD_FIELDS) if (input[field] != null) throw badInput('A reply draft takes only a body: its thread has the rest.', field);
      await runChange(this.db, () => this.store.transaction((tx) => tx.updateDraftBody(draft.id, body, now)));
    } else {
      if (input.careTeamId != null) await this.writer.assertOwnCareTeam(input.careTeamId, 'Mutation.updateMessageDraft#careTeam', draft.patientId);
      const fields = {
        careTeamId: input.careTeamId ?? thread.careTeamId,
        category: input.category ?? thread.category,
        subject: input.subject != null ? checkDraftSubject(input.subject) : thread.subject,
      };
      await runChange(this.db, () =>
        this.store.transaction(async (tx) => {
          await tx.updateDraftBody(draft.id, body, now);
          await tx.updateDraftThread(thread.id, fields, now);
        }),
      );
    }
    this.loaders.forget(thread.id);
    return { ...draft, body, updatedAt: now };
  }

  /** Sends the draft under the rules of sendMessage or replyToThread, and deletes it, in one transaction. */
  async send(draftId: string): Promise<ThreadRow> {
    const viewer = await this.writer.requireThreadWriter('Mutation.sendMessageDraft');
    draftId = parseId(draftId, 'draftId');
    const draft = await this.store.draftById(draftId);
    if (!draft) return this.alreadySent(draftId);
    if (draft.authorId !== viewer.personId) throw notFound(DRAFT);
    const thread = await this.threadOf(draft);
    let sent: ThreadRow;
    if (thread.state === 'DRAFT') {
      await policy.viewer('Mutation.sendMessageDraft#newThread', this.access);
      checkSubject(thread.subject, 'subject');
      const body = checkBody(draft.body, 'body');
      // The patient's own draft, or their proxy's in their name (the author is the viewer: checked above).
      await this.writer.assertMayStart('Mutation.sendMessageDraft#newThread', thread.patientId);
      await this.writer.assertOwnCareTeam(thread.careTeamId, 'Mutation.sendMessageDraft#careTeam', thread.patientId);
      await policy.assert('Mutation.sendMessageDraft#newThread', this.access, thread.patientId);
      sent = await this.sendOnce(
        draft,
        async (sentAt) => this.message(draft, body, sentAt),
        (tx, sentAt) => tx.openDraftThread(thread.id, sentAt),
      );
    } else {
      const writable = await this.writer.writableThread(thread.id, 'Mutation.sendMessageDraft');
      const body = checkBody(draft.body, 'body');
      sent = await this.sendOnce(
        draft,
        async (sentAt) => {
          this.writer.assertReplyable(writable);
          return this.message(draft, body, sentAt);
        },
        (tx, sentAt) => tx.messageAdded(thread.id, sentAt),
      );
    }
    this.loaders.forget(thread.id);
    return sent;
  }

  async delete(draftId: string): Promise<string> {
    const draft = await this.ownDraft(draftId, 'Mutation.deleteMessageDraft');
    const deleted = await runChange(this.db, () => this.store.transaction((tx) => tx.deleteDraft(draft)));
    if (!deleted) throw notFound(DRAFT);
    if (draft.threadId) this.loaders.forget(draft.threadId);
    return draft.id;
  }

  /** Saving a reply draft again replaces the one the author already has in that thread. */
  private async saveReply(thread: ThreadRow, authorId: string, body: string): Promise<DraftRow> {
    const now = new Date().toISOString();
    const replace = async (existing: DraftRow) => {
      await this.store.transaction((tx) => tx.updateDraftBody(existing.id, body, now));
      return { ...existing, body, updatedAt: now };
    };
    const existing = await this.store.draftOf(authorId, thread.id);
    if (existing) return replace(existing);
    const draft: DraftRow = {
      id: randomUUID(),
      authorId,
      patientId: thread.patientId,
      careTeamId: thread.careTeamId,
      threadId: thread.id,
      category: null,
      subject: null,
      body,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.store.transaction((tx) => tx.insertDraft(draft));
      return draft;
    } catch (e) {
      // Saved twice at the same moment: one draft per author and thread, so the second save replaces the first.
      const winner = isUniqueViolation(e) ? await this.store.draftOf(authorId, thread.id) : null;
      if (winner) return replace(winner);
      throw e;
    }
  }

  private message(draft: DraftRow, body: string, sentAt: string): MessageRow {
    const sender = this.writer.senderOf(this.access.requireViewer());
    // The draft's id: a second send of the same draft collides on the primary key instead of storing a second message.
    return { id: draft.id, threadId: draft.threadId!, senderId: sender.id, senderRole: sender.role, senderName: sender.name, body, sentAt, idempotencyKey: null };
  }

  private sendOnce(
    draft: DraftRow,
    decide: (sentAt: string) => Promise<MessageRow>,
    alsoWrite: (tx: MessagingStore, sentAt: string) => Promise<unknown>,
  ): Promise<ThreadRow> {
    return runChange(this.db, async () => {
      if (!(await this.store.draftById(draft.id))) return this.alreadySent(draft.id);
      const sentAt = new Date().toISOString();
      const message = await decide(sentAt);
      try {
        await this.store.transaction(async (tx) => {
          await tx.insertMessage(message);
          await alsoWrite(tx, sentAt);
          await tx.deleteDraft(draft);
        });
      } catch (e) {
        if (isUniqueViolation(e)) return this.alreadySent(draft.id);
        throw e;
      }
      return (await this.store.threadById(message.threadId))!;
    });
  }

  /** A retried send of a draft that was sent already answers with the thread its message went to. */
  private async alreadySent(draftId: string): Promise<ThreadRow> {
    const viewer = await this.writer.requireThreadWriter('Mutation.sendMessageDraft#retry');
    const message = await this.store.messageById(draftId);
    if (!message || message.senderId !== viewer.personId) throw notFound(DRAFT);
    return this.writer.writableThread(message.threadId, 'Mutation.sendMessageDraft#retry');
  }

  private async ownDraft(id: string, entry: MessagingEntry): Promise<DraftRow> {
    const viewer = await this.writer.requireThreadWriter(entry);
    const draft = await this.store.draftById(parseId(id, 'draftId'));
    // Another person's draft is NOT_FOUND, exactly like a missing one.
    if (!draft || draft.authorId !== viewer.personId) throw notFound(DRAFT);
    await policy.assert(entry, this.access, draft.patientId);
    return draft;
  }

  private async threadOf(draft: DraftRow): Promise<ThreadRow> {
    const thread = draft.threadId ? await this.store.threadById(draft.threadId) : null;
    if (!thread) throw notFound(DRAFT);
    return thread;
  }
}
