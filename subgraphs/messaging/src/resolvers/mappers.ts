import type { Connection } from '@portal/kit';
import type { MessageRow, ThreadRow } from '../db/entities';

/** Storage rows never reach GraphQL as they are: these shape what the schema promises. */
export const toThread = (t: ThreadRow) => ({
  id: t.id,
  subject: t.subject,
  category: t.category,
  source: t.source,
  lastMessageAt: t.lastMessageAt,
  // Kept for the thread's own fields (careTeam, patient, canReply), not exposed as such.
  patientId: t.patientId,
  careTeamId: t.careTeamId,
});

export const toMessage = (m: MessageRow) => ({
  id: m.id,
  body: m.body,
  sentAt: m.sentAt,
  senderName: m.senderName,
  senderRole: m.senderRole,
});

export const toThreadConnection = (c: Connection<ThreadRow>) => ({
  totalCount: c.totalCount,
  pageInfo: c.pageInfo,
  edges: c.edges.map((e) => ({ cursor: e.cursor, node: toThread(e.node) })),
});

export type ThreadModel = ReturnType<typeof toThread>;
