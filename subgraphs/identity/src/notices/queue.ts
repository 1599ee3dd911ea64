import { randomUUID } from 'node:crypto';
import type { AccountRow } from '../db/entities';
import type { IdentityStore } from '../db/store';

/** Credential notices (fixed text) and proxy notices (text naming the people, scopes and dates: `proxyNoticeText`). */
export type NoticeKind = CredentialNoticeKind | ProxyNoticeKind;
type CredentialNoticeKind = 'DS_LOGON_ADDED' | 'DS_LOGON_REMOVED' | 'PIV_REGISTERED';
export type ProxyNoticeKind = 'PROXY_GRANTED' | 'PROXY_RECEIVED' | 'PROXY_REVOKED' | 'PROXY_ENDED';

export interface NoticeText {
  subject: string;
  body: string;
}

const TEXT: Record<CredentialNoticeKind, { subject: string; body: string }> = {
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
export async function queueNotice(store: IdentityStore, account: Pick<AccountRow, 'id' | 'personId'>, kind: CredentialNoticeKind, now: Date): Promise<void> {
  await insertNotice(store, account, kind, TEXT[kind], now);
}

/** What a record area is called in a message. */
const SCOPE_WORDS: Record<string, string> = {
  APPOINTMENTS: 'appointments',
  MESSAGES: 'secure messages',
  MEDICATIONS: 'medications',
  RESULTS: 'lab results',
  NOTES: 'visit notes',
  HEALTH_SUMMARY: 'health summary (conditions, allergies, immunizations, vitals)',
};

const listOf = (scopes: readonly string[]) => {
  const words = scopes.map((s) => SCOPE_WORDS[s] ?? s.toLowerCase());
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
};

/** The four messages of a grant and its revocation: to the grantor (GRANTED, REVOKED) and to the proxy (RECEIVED, ENDED). */
export function proxyNoticeText(kind: ProxyNoticeKind, grant: { grantorName: string; proxyName: string; scopes: readonly string[]; endsOn: string }): NoticeText {
  const { grantorName, proxyName, endsOn } = grant;
  const scopes = listOf(grant.scopes);
  switch (kind) {
    case 'PROXY_GRANTED':
      return {
        subject: `You gave ${proxyName} proxy access`,
        body: `You gave ${proxyName} access to your ${scopes} in the patient portal until ${endsOn}. They sign in as themselves and can see and act on only those records in your name. You can revoke this at any time. If you did not do this, call the portal help desk at once.`,
      };
    case 'PROXY_RECEIVED':
      return {
        subject: `${grantorName} gave you proxy access`,
        body: `${grantorName} gave you access to their ${scopes} in the patient portal until ${endsOn}. You will find them under the patients you are a proxy for. Every record you see or change in their name is recorded.`,
      };
    case 'PROXY_REVOKED':
      return {
        subject: `You revoked the proxy access of ${proxyName}`,
        body: `You revoked the access ${proxyName} had to your ${scopes} in the patient portal. It ended at once. If you did not do this, call the portal help desk at once.`,
      };
    case 'PROXY_ENDED':
      return {
        subject: `Your proxy access for ${grantorName} has ended`,
        body: `${grantorName} revoked your access to their ${scopes} in the patient portal. It ended at once.`,
      };
  }
}

/**
 * Queues a proxy notice, with the store of the grant's transaction. `to` is
 * the person told and the account they sign in with; a proxy who has no
 * portal account yet is named by person id there (the message waits in
 * messaging for when they open one: it is addressed by person).
 */
export async function queueProxyNotice(store: IdentityStore, to: { personId: string; accountId: string }, kind: ProxyNoticeKind, text: NoticeText, now: Date): Promise<void> {
  await insertNotice(store, { id: to.accountId, personId: to.personId }, kind, text, now);
}

async function insertNotice(store: IdentityStore, account: Pick<AccountRow, 'id' | 'personId'>, kind: NoticeKind, text: NoticeText, now: Date): Promise<void> {
  await store.insertNotice({
    id: randomUUID(),
    personId: account.personId,
    accountId: account.id,
    kind,
    subject: text.subject.slice(0, 120),
    body: text.body.slice(0, 2000),
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
