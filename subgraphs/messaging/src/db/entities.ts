import { EntitySchema } from 'typeorm';

export type MessageCategory = 'GENERAL' | 'APPOINTMENT' | 'MEDICATION' | 'TEST_RESULT' | 'EDUCATION';
export type RecordSource = 'MHS_GENESIS' | 'TRICARE_ONLINE';
export type SenderRole = 'PATIENT' | 'PRACTITIONER' | 'PHARMACIST' | 'SYSTEM';
/** OPEN once the first message is sent; DRAFT while it is a patient's unsent new thread, seen by that patient only. */
export type ThreadState = 'OPEN' | 'DRAFT';
/** NORMAL, or a kind of record a proxy whose grant hides sensitive records never sees. */
export type Sensitivity = 'NORMAL' | 'BEHAVIORAL_HEALTH' | 'REPRODUCTIVE_HEALTH' | 'SUBSTANCE_USE';

export interface ThreadRow {
  id: string;
  patientId: string;
  careTeamId: string;
  subject: string;
  category: MessageCategory;
  source: RecordSource;
  state: ThreadState;
  /** Not NORMAL: hidden from a proxy whose grant hides sensitive records. */
  sensitivity: Sensitivity;
  createdAt: string;
  /** Denormalised sent_at of the newest message (of a DRAFT thread: its last edit): threads are listed and paged by it. */
  lastMessageAt: string;
}

export interface MessageRow {
  id: string;
  threadId: string;
  senderId: string;
  senderRole: SenderRole;
  /** The name to show, stored as it was when sent (people and teams get renamed). */
  senderName: string;
  body: string;
  sentAt: string;
  /** A client's retry key; unique per sender. */
  idempotencyKey: string | null;
}

/** One reader's own state of one thread: read and archive state are never shared between readers. */
export interface ReaderStateRow {
  threadId: string;
  readerId: string;
  lastReadAt: string | null;
  archivedAt: string | null;
}

/**
 * An unsent message: a reply in an OPEN thread, or the body of a DRAFT thread
 * (whose subject, category and care team live on the thread row; category and
 * subject here stay null). One draft per author and thread.
 */
export interface DraftRow {
  id: string;
  authorId: string;
  patientId: string;
  careTeamId: string;
  threadId: string | null;
  category: MessageCategory | null;
  subject: string | null;
  body: string;
  createdAt: string;
  updatedAt: string;
}

const varchar = (length: number, extra: object = {}) => ({ type: 'varchar' as const, length, ...extra });

export const ThreadEntity = new EntitySchema<ThreadRow>({
  name: 'MessageThread',
  tableName: 'message_thread',
  columns: {
    id: varchar(64, { primary: true }),
    patientId: varchar(64, { name: 'patient_id' }),
    careTeamId: varchar(64, { name: 'care_team_id' }),
    subject: varchar(200),
    category: varchar(16),
    source: varchar(16),
    state: varchar(16, { default: 'OPEN' }),
    sensitivity: varchar(24, { default: 'NORMAL' }),
    createdAt: varchar(32, { name: 'created_at' }),
    lastMessageAt: varchar(32, { name: 'last_message_at' }),
  },
});

export const MessageEntity = new EntitySchema<MessageRow>({
  name: 'Message',
  tableName: 'message',
  columns: {
    id: varchar(64, { primary: true }),
    threadId: varchar(64, { name: 'thread_id' }),
    senderId: varchar(64, { name: 'sender_id' }),
    senderRole: varchar(16, { name: 'sender_role' }),
    senderName: varchar(200, { name: 'sender_name' }),
    body: { type: 'text' },
    sentAt: varchar(32, { name: 'sent_at' }),
    idempotencyKey: varchar(128, { name: 'idempotency_key', nullable: true }),
  },
});

export const ReaderStateEntity = new EntitySchema<ReaderStateRow>({
  name: 'ThreadReaderState',
  tableName: 'thread_reader_state',
  columns: {
    threadId: varchar(64, { name: 'thread_id', primary: true }),
    readerId: varchar(64, { name: 'reader_id', primary: true }),
    lastReadAt: varchar(32, { name: 'last_read_at', nullable: true }),
    archivedAt: varchar(32, { name: 'archived_at', nullable: true }),
  },
});

export const DraftEntity = new EntitySchema<DraftRow>({
  name: 'MessageDraft',
  tableName: 'message_draft',
  columns: {
    id: varchar(64, { primary: true }),
    authorId: varchar(64, { name: 'author_id' }),
    patientId: varchar(64, { name: 'patient_id' }),
    careTeamId: varchar(64, { name: 'care_team_id' }),
    threadId: varchar(64, { name: 'thread_id', nullable: true }),
    category: varchar(16, { nullable: true }),
    subject: varchar(200, { nullable: true }),
    body: { type: 'text' },
    createdAt: varchar(32, { name: 'created_at' }),
    updatedAt: varchar(32, { name: 'updated_at' }),
  },
});

export const entities = [ThreadEntity, MessageEntity, ReaderStateEntity, DraftEntity];
