import { randomUUID } from 'node:crypto';
import type { AccountRow } from '../db/entities';
import type { IdentityStore } from '../db/store';

export type NoticeKind = 'DS_LOGON_ADDED' | 'DS_LOGON_REMOVED' | 'PIV_REGISTERED';

const TEXT: Record<NoticeKind, { subject: string; body: string }> = {
  DS_LOGON_ADDED: {
    subject: 'A DS Logon username and password were added to your account',
    body: 'A DS Logon username and password were just added to your patient portal account, so it can now be signed in to with them. If you did not do this, call the DS Logon help desk at once.',
  },
  DS_LOGON_REMOVED: {
    subject: 'Your DS Logon account was deactivated',
    body: 'Your DS Logon account was just deactivated: its username and password no longer sign in, and every session of it has ended. If you did not ask for this, call the DS Logon help desk.',
  },
  PIV_REGISTERED: {
    subject: 'A PIV card was registered to your account',
    body: 'A PIV card was just registered to your DS Logon account and can now sign in to your patient portal account. If you did not do this, call the DS Logon help desk at once.',
  },
};

/**
 * Queues a secure message to the holder that a credential was added or
 * removed, with the store of the change's transaction: the notice is kept
 * exactly when the change is. The NoticeWorker delivers it through messaging.
 * Only patients have DS Logon or PIV credentials, and they get the messages.
 */
export async function queueNotice(store: IdentityStore, account: AccountRow, kind: NoticeKind, now: Date): Promise<void> {
  await store.insertNotice({
    id: randomUUID(),
    personId: account.personId,
    accountId: account.id,
    kind,
    ...TEXT[kind],
    createdAt: now.toISOString(),
    attempts: 0,
    refusals: 0,
    nextAttemptAt: now.toISOString(),
    deliveredAt: null,
    deadAt: null,
    leaseBy: null,
    leaseUntil: null,
    lastError: null,
  });
}
