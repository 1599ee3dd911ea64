import { mapConnection, type Connection } from '@portal/kit';
import type { DraftRow, MessageRow, ThreadRow } from '../db/entities';

/** Storage rows never reach GraphQL as they are: these shape what the schema promises. */
export const toThread = (t: ThreadRow) => ({
  id: t.id,
  subject: t.subject,
  category: t.category,
  source: t.source,
  lastMessageAt: t.lastMessageAt,
  sensitivity: t.sensitivity,
  // Kept for the thread's own fields (careTeam, patient, canReply), not exposed as such.
  patientId: t.patientId,
  careTeamId: t.careTeamId,
  state: t.state,
});

/** A message of the thread of patient `patientId`: written by a proxy when a patient other than the thread's own wrote it. */
export const toMessage = (m: MessageRow, patientId: string) => ({
  id: m.id,
  body: m.body,
  sentAt: m.sentAt,
  senderName: m.senderName,
  senderRole: m.senderRole,
  writtenByProxy: m.senderRole === 'PATIENT' && m.senderId !== patientId,
  // Kept for Message.practitioner, Message.writtenBy and Message.proxyAuthor, not exposed as such.
  senderId: m.senderId,
  patientId,
});

export const toDraft = (d: DraftRow) => ({
  id: d.id,
  body: d.body,
  updatedAt: d.updatedAt,
  // Kept for MessageDraft.thread, not exposed as such.
  threadId: d.threadId ?? '',
});

export const toThreadConnection = (c: Connection<ThreadRow>) => mapConnection(c, toThread);

export type ThreadModel = ReturnType<typeof toThread>;
export type MessageModel = ReturnType<typeof toMessage>;
export type DraftModel = ReturnType<typeof toDraft>;
/** A page of threads; `totalCount` is counted only when asked for. */
export type ThreadConnectionModel = Connection<ThreadModel>;

/** Identity's entities as this subgraph knows them: their key. */
export type PatientRef = { id: string };
export type CareTeamRef = { id: string };
