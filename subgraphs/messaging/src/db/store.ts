import { In, type DataSource, type EntityManager } from 'typeorm';
import { execute, isPostgres, keysetAfter, sql, type AuditTrail, type Page } from '@portal/kit';
import { DraftEntity, MessageEntity, ThreadEntity, type DraftRow, type MessageRow, type ThreadRow } from './entities';

export type Folder = 'INBOX' | 'SENT' | 'DRAFTS' | 'ARCHIVE';

/** Whose eyes a list is read with: folders and read state are the reader's own. */
export interface ReaderScope {
  readerId: string;
  /** The care teams whose threads the reader may see; null means every team (a patient reading their own threads). */
  teamIds: readonly string[] | null;
}

/** Which threads of their owners a list holds: a folder of the reader's (or all), and only these patients' when given. */
export interface ThreadListSpec {
  folder: Folder | null;
  /** The patients whose threads the list may hold; null for any (the owner and scope decide). */
  patientIds: readonly string[] | null;
  /** Patients whose sensitive (not NORMAL) threads are left out: the reader is their proxy under a grant that hides them. */
  sensitiveHidden?: readonly string[];
}

/** Up to this many owners in one batch, each owner's page is read on its own (see threadPages). */
const FEW_OWNERS = 8;

/** Which column a batch of pages is partitioned by: a patient's threads or a care team's. */
export type ThreadOwner = 'patient' | 'careTeam';
const OWNER_COLUMN: Record<ThreadOwner, string> = { patient: 't.patient_id', careTeam: 't.care_team_id' };

const THREAD_COLUMNS = `t.id AS "id", t.patient_id AS "patientId", t.care_team_id AS "careTeamId", t.subject AS "subject",
  t.category AS "category", t.source AS "source", t.state AS "state", t.sensitivity AS "sensitivity", t.created_at AS "createdAt", t.last_message_at AS "lastMessageAt"`;

/** Numbers bound values as `$1, $2...` in the order a statement is assembled. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
  list(values: readonly unknown[]): string {
    return values.map((v) => this.add(v)).join(', ');
  }
}

/** Every SQL statement of the messaging subgraph. */
export class MessagingStore {
  constructor(
    private readonly db: DataSource | EntityManager,
    /** The request's audit trail: every transaction writes its events, so a change commits with them. */
    private readonly audit?: AuditTrail,
  ) {}

  get postgres(): boolean {
    return isPostgres(this.db);
  }

  /** Runs `write` in one transaction, with a store bound to it, together with the request's audit events. */
  transaction<T>(write: (tx: MessagingStore) => Promise<T>): Promise<T> {
    const db = this.db as DataSource;
    return this.audit ? this.audit.transaction(db, (tx) => write(new MessagingStore(tx))) : db.transaction((tx) => write(new MessagingStore(tx)));
  }

  threadsByIds(ids: readonly string[]): Promise<ThreadRow[]> {
    return this.db.getRepository(ThreadEntity).findBy({ id: In([...ids]) });
  }

  /** The messages of several threads, each thread's oldest first. */
  messagesOf(threadIds: readonly string[]): Promise<MessageRow[]> {
    return this.db.getRepository(MessageEntity).find({ where: { threadId: In([...threadIds]) }, order: { sentAt: 'ASC', id: 'ASC' } });
  }

  /** How many messages of each thread, sent by someone else, the reader has not read. Threads with none are left out. */
  async unreadByThread(readerId: string, threadIds: readonly string[]): Promise<{ threadId: string; unread: number }[]> {
    if (threadIds.length === 0) return [];
    const p = new Params();
    const reader = p.add(readerId);
    const rows = await sql<{ threadId: string; unread: string | number }>(
      this.db,
      `SELECT m.thread_id AS "threadId", COUNT(*) AS "unread"
         FROM message m
         LEFT JOIN thread_reader_state rs ON rs.thread_id = m.thread_id AND rs.reader_id = ${reader}
        WHERE m.thread_id IN (${p.list(threadIds)}) AND ${unreadMessage(reader)}
        GROUP BY m.thread_id`,
      p.values,
    );
    return rows.map((r) => ({ threadId: r.threadId, unread: Number(r.unread) }));
  }

  /**
   * Per patient, the messages in their threads (within the reader's teams) that
   * the reader has not read; of the patients in `sensitiveHidden`, NORMAL threads only.
   */
  async unreadByPatient(scope: ReaderScope, patientIds: readonly string[], sensitiveHidden: readonly string[] = []): Promise<{ patientId: string; unread: number }[]> {
    if (patientIds.length === 0 || scope.teamIds?.length === 0) return [];
    const p = new Params();
    const reader = p.add(scope.readerId);
    const rows = await sql<{ patientId: string; unread: string | number }>(
      this.db,
      `SELECT t.patient_id AS "patientId", COUNT(*) AS "unread"
         FROM message_thread t
         JOIN message m ON m.thread_id = t.id
         LEFT JOIN thread_reader_state rs ON rs.thread_id = t.id AND rs.reader_id = ${reader}
        WHERE t.patient_id IN (${p.list(patientIds)}) ${teamFilter(scope, p)} ${sensitiveFilter(sensitiveHidden, p)} AND ${unreadMessage(reader)}
        GROUP BY t.patient_id`,
      p.values,
    );
    return rows.map((r) => ({ patientId: r.patientId, unread: Number(r.unread) }));
  }

  /**
   * One page of threads for each owner (patient or care team), newest first, in
   * one statement whatever the number of owners: ROW_NUMBER() cuts each owner's
   * page. Each list is read with the filter `threadCounts` counts, so a page is
   * never short while more rows exist and totalCount counts what the pages hold.
   */
  async threadPages(owner: ThreadOwner, ownerIds: readonly string[], scope: ReaderScope, list: ThreadListSpec, page: Page): Promise<Map<string, ThreadRow[]>> {
    const pages = new Map<string, ThreadRow[]>(ownerIds.map((id) => [id, []]));
    if (isEmpty(ownerIds, scope, list)) return pages;
    const column = OWNER_COLUMN[owner];
    const p = new Params();
    let rows: (ThreadRow & { owner: string })[];
    if (ownerIds.length <= FEW_OWNERS) {
      // One ordered, limited read per owner: each walks its owner's index backwards from the
      // newest and stops after a page, however many threads the owner has (a care team of
      // thousands of patients). ROW_NUMBER() over all of them would read and sort every one.
      const parts = ownerIds.map((ownerId, i) => {
        const filter = threadFilter(owner, [ownerId], scope, list, p);
        const after = keysetAfter(page, 't.last_message_at', 't.id', (v) => p.add(v));
        return `SELECT * FROM (
           SELECT ${THREAD_COLUMNS}, ${column} AS "owner" FROM message_thread t
            WHERE ${filter} ${after ? `AND ${after}` : ''}
            ORDER BY t.last_message_at DESC, t.id DESC LIMIT ${p.add(page.limit + 1)}
         ) AS p${i}`;
      });
      rows = await sql<ThreadRow & { owner: string }>(
        this.db,
        `SELECT u.* FROM (${parts.join(' UNION ALL ')}) u ORDER BY u."owner", u."lastMessageAt" DESC, u."id" DESC`,
        p.values,
      );
    } else {
      const filter = threadFilter(owner, ownerIds, scope, list, p);
      const after = keysetAfter(page, 't.last_message_at', 't.id', (v) => p.add(v));
      rows = await sql<ThreadRow & { owner: string }>(
        this.db,
        `SELECT x.* FROM (
           SELECT ${THREAD_COLUMNS}, ${column} AS "owner",
                  ROW_NUMBER() OVER (PARTITION BY ${column} ORDER BY t.last_message_at DESC, t.id DESC) AS "rn"
             FROM message_thread t
            WHERE ${filter} ${after ? `AND ${after}` : ''}
         ) x
         WHERE x."rn" <= ${p.add(page.limit + 1)}
         ORDER BY x."owner", x."rn"`,
        p.values,
      );
    }
    for (const row of rows) pages.get(row.owner)?.push(toThreadRow(row));
    return pages;
  }

  /** How many threads each owner's list holds, over all its pages (the filter of `threadPages`, without a cursor). */
  async threadCounts(owner: ThreadOwner, ownerIds: readonly string[], scope: ReaderScope, list: ThreadListSpec): Promise<Map<string, number>> {
    const totals = new Map<string, number>(ownerIds.map((id) => [id, 0]));
    if (isEmpty(ownerIds, scope, list)) return totals;
    const column = OWNER_COLUMN[owner];
    const p = new Params();
    const counts = await sql<{ owner: string; total: string | number }>(
      this.db,
      `SELECT ${column} AS "owner", COUNT(*) AS "total" FROM message_thread t WHERE ${threadFilter(owner, ownerIds, scope, list, p)} GROUP BY ${column}`,
      p.values,
    );
    // PostgreSQL returns COUNT(*) as a bigint string.
    for (const c of counts) totals.set(c.owner, Number(c.total));
    return totals;
  }

  /** For each care team, the patients it has sent threads with (what a team's list may need care access for). */
  async teamPatients(careTeamIds: readonly string[]): Promise<{ careTeamId: string; patientId: string }[]> {
    if (careTeamIds.length === 0) return [];
    const p = new Params();
    return sql<{ careTeamId: string; patientId: string }>(
      this.db,
      `SELECT DISTINCT t.care_team_id AS "careTeamId", t.patient_id AS "patientId" FROM message_thread t
        WHERE t.care_team_id IN (${p.list(careTeamIds)}) AND t.state = 'OPEN'`,
      p.values,
    );
  }

  /** The reader's own drafts in these threads (at most one per thread). */
  draftsOf(authorId: string, threadIds: readonly string[]): Promise<DraftRow[]> {
    return this.db.getRepository(DraftEntity).findBy({ authorId, threadId: In([...threadIds]) });
  }

  // ---------------------------------------------------------------- the write side

  threadById(id: string): Promise<ThreadRow | null> {
    return this.db.getRepository(ThreadEntity).findOneBy({ id });
  }

  messageById(id: string): Promise<MessageRow | null> {
    return this.db.getRepository(MessageEntity).findOneBy({ id });
  }

  /** Whether the patient has a sent thread with the care team (where a proxy may write in the patient's name). */
  async patientHasTeamThread(patientId: string, careTeamId: string): Promise<boolean> {
    const rows = await sql(this.db, `SELECT 1 AS "one" FROM message_thread WHERE patient_id = $1 AND care_team_id = $2 AND state = 'OPEN' LIMIT 1`, [patientId, careTeamId]);
    return rows.length > 0;
  }

  /** The message a sender already sent with this retry key, if any. */
  messageBySenderKey(senderId: string, idempotencyKey: string): Promise<MessageRow | null> {
    return this.db.getRepository(MessageEntity).findOneBy({ senderId, idempotencyKey });
  }

  /** The id of the message that opened the thread. */
  async firstMessageId(threadId: string): Promise<string | null> {
    const first = await this.db.getRepository(MessageEntity).findOne({ where: { threadId }, order: { sentAt: 'ASC', id: 'ASC' } });
    return first?.id ?? null;
  }

  async insertThread(row: ThreadRow): Promise<void> {
    await this.db.getRepository(ThreadEntity).insert(row);
  }

  async insertMessage(row: MessageRow): Promise<void> {
    await this.db.getRepository(MessageEntity).insert(row);
  }

  /**
   * After a message was added: the thread moves up its lists, and comes back
   * out of the archive of every reader who had archived it.
   */
  async messageAdded(threadId: string, sentAt: string): Promise<void> {
    await execute(this.db, 'UPDATE message_thread SET last_message_at = $2 WHERE id = $1 AND last_message_at < $2', [threadId, sentAt]);
    await execute(this.db, 'UPDATE thread_reader_state SET archived_at = NULL WHERE thread_id = $1 AND archived_at IS NOT NULL', [threadId]);
  }

  /** The reader has read everything in the thread sent up to `at`. */
  async markRead(threadId: string, readerId: string, at: string): Promise<void> {
    await execute(
      this.db,
      `INSERT INTO thread_reader_state (thread_id, reader_id, last_read_at, archived_at) VALUES ($1, $2, $3, NULL)
       ON CONFLICT (thread_id, reader_id) DO UPDATE SET last_read_at = excluded.last_read_at`,
      [threadId, readerId, at],
    );
  }

  async archive(threadId: string, readerId: string, at: string): Promise<void> {
    await execute(
      this.db,
      `INSERT INTO thread_reader_state (thread_id, reader_id, last_read_at, archived_at) VALUES ($1, $2, NULL, $3)
       ON CONFLICT (thread_id, reader_id) DO UPDATE SET archived_at = excluded.archived_at`,
      [threadId, readerId, at],
    );
  }

  draftById(id: string): Promise<DraftRow | null> {
    return this.db.getRepository(DraftEntity).findOneBy({ id });
  }

  draftOf(authorId: string, threadId: string): Promise<DraftRow | null> {
    return this.db.getRepository(DraftEntity).findOneBy({ authorId, threadId });
  }

  async insertDraft(row: DraftRow): Promise<void> {
    await this.db.getRepository(DraftEntity).insert(row);
  }

  async updateDraftBody(id: string, body: string, updatedAt: string): Promise<void> {
    await execute(this.db, 'UPDATE message_draft SET body = $2, updated_at = $3 WHERE id = $1', [id, body, updatedAt]);
  }

  /** Edits an unsent new thread; its place in the DRAFTS folder follows the last edit. */
  async updateDraftThread(id: string, fields: Pick<ThreadRow, 'careTeamId' | 'category' | 'subject'>, editedAt: string): Promise<void> {
    await execute(
      this.db,
      `UPDATE message_thread SET care_team_id = $2, category = $3, subject = $4, last_message_at = $5 WHERE id = $1 AND state = 'DRAFT'`,
      [id, fields.careTeamId, fields.category, fields.subject, editedAt],
    );
    await execute(this.db, 'UPDATE message_draft SET care_team_id = $2 WHERE thread_id = $1', [id, fields.careTeamId]);
  }

  /** A DRAFT thread becomes an OPEN one whose first message was sent at `sentAt`; false when it was no longer a draft. */
  async openDraftThread(id: string, sentAt: string): Promise<boolean> {
    return (await execute(this.db, `UPDATE message_thread SET state = 'OPEN', created_at = $2, last_message_at = $2 WHERE id = $1 AND state = 'DRAFT'`, [id, sentAt])) === 1;
  }

  /** Deletes a draft; with it the thread too when that was an unsent new thread. False when it was already gone. */
  async deleteDraft(draft: DraftRow): Promise<boolean> {
    const deleted = (await execute(this.db, 'DELETE FROM message_draft WHERE id = $1', [draft.id])) === 1;
    if (deleted && draft.threadId) {
      await execute(this.db, `DELETE FROM thread_reader_state WHERE thread_id = $1 AND EXISTS (SELECT 1 FROM message_thread WHERE id = $1 AND state = 'DRAFT')`, [draft.threadId]);
      await execute(this.db, `DELETE FROM message_thread WHERE id = $1 AND state = 'DRAFT'`, [draft.threadId]);
    }
    return deleted;
  }
}


/** A message (alias m, reader state rs) that someone else sent after the reader last read the thread. */
const unreadMessage = (reader: string) => `m.sender_id <> ${reader} AND (rs.last_read_at IS NULL OR m.sent_at > rs.last_read_at)`;

/** Nothing can match: no owners, no visible team, or no patient allowed. */
function isEmpty(ownerIds: readonly string[], scope: ReaderScope, list: ThreadListSpec): boolean {
  return ownerIds.length === 0 || scope.teamIds?.length === 0 || list.patientIds?.length === 0;
}

/** The one WHERE of a list of threads, for its pages and its count alike. */
function threadFilter(owner: ThreadOwner, ownerIds: readonly string[], scope: ReaderScope, list: ThreadListSpec, p: Params): string {
  // An unsent new thread is in its author's DRAFTS folder and nowhere else.
  const sent = list.folder === 'DRAFTS' ? '' : `AND t.state = 'OPEN'`;
  const patients = list.patientIds ? `AND t.patient_id IN (${p.list(list.patientIds)})` : '';
  const folder = list.folder ? `AND ${folderFilter(list.folder, p.add(scope.readerId))}` : '';
  return `${OWNER_COLUMN[owner]} IN (${p.list(ownerIds)}) ${sent} ${teamFilter(scope, p)} ${patients} ${sensitiveFilter(list.sensitiveHidden ?? [], p)} ${folder}`;
}

/** Leaves out the sensitive threads of these patients (their proxy's grant hides them): in SQL, so pages and counts stay right. */
function sensitiveFilter(patientIds: readonly string[], p: Params): string {
  return patientIds.length ? `AND NOT (t.sensitivity <> 'NORMAL' AND t.patient_id IN (${p.list(patientIds)}))` : '';
}

function teamFilter(scope: ReaderScope, p: Params): string {
  return scope.teamIds ? `AND t.care_team_id IN (${p.list(scope.teamIds)})` : '';
}

function folderFilter(folder: Folder, reader: string): string {
  const archived = `EXISTS (SELECT 1 FROM thread_reader_state rs WHERE rs.thread_id = t.id AND rs.reader_id = ${reader} AND rs.archived_at IS NOT NULL)`;
  switch (folder) {
    case 'INBOX':
      return `NOT ${archived}`;
    case 'ARCHIVE':
      return archived;
    case 'SENT':
      return `EXISTS (SELECT 1 FROM message m WHERE m.thread_id = t.id AND m.sender_id = ${reader})`;
    case 'DRAFTS':
      return `EXISTS (SELECT 1 FROM message_draft d WHERE d.thread_id = t.id AND d.author_id = ${reader})`;
  }
}

function toThreadRow(r: ThreadRow): ThreadRow {
  return {
    id: r.id,
    patientId: r.patientId,
    careTeamId: r.careTeamId,
    subject: r.subject,
    category: r.category,
    source: r.source,
    state: r.state,
    sensitivity: r.sensitivity,
    createdAt: r.createdAt,
    lastMessageAt: r.lastMessageAt,
  };
}
