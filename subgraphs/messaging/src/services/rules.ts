import type { RecordSource, ThreadState } from '../db/entities';

/** A reply is refused when the newest message is older than this: the patient starts a new thread instead. */
export const REPLY_WINDOW_DAYS = 45;

/** Whether a thread still takes replies: legacy TRICARE Online threads and unsent drafts never do. */
export function canReply(thread: { source: RecordSource; lastMessageAt: string; state?: ThreadState }, now: Date): boolean {
  if (thread.source === 'TRICARE_ONLINE' || thread.state === 'DRAFT') return false;
  return now.getTime() - Date.parse(thread.lastMessageAt) <= REPLY_WINDOW_DAYS * 24 * 60 * 60 * 1000;
}
