import { outboxSettings, parseSettings, readOutboxLimits, type OutboxSettings } from '@portal/kit';
import { parsePharmacySettings } from '../settings';

/**
 * Settings of the notifier: the outbox worker that delivers pharmacy's
 * messages to patients through messaging's `postCareTeamMessage`.
 */

export interface NotifierOptions extends Partial<OutboxSettings> {
  /** Base URL of messaging (e.g. http://127.0.0.1:4003); the worker calls its /graphql directly. */
  messagingUrl: string;
  /** Base URL of identity, for `POST /oauth/token`; the subgraph's IDENTITY_URL when left out. */
  identityUrl?: string;
  /** Pharmacy's service credential, with scope messaging:write. */
  clientId: string;
  clientSecret: string;
}

export type NotifierSettings = OutboxSettings & { messagingUrl: string; identityUrl: string; clientId: string; clientSecret: string };

/** The kit's outbox defaults (OUTBOX_DEFAULTS), then `options`; identity's URL is the subgraph's unless given. */
export function notifierSettings(options: NotifierOptions, identityUrl: string): NotifierSettings {
  return { ...outboxSettings(options), messagingUrl: options.messagingUrl, identityUrl: options.identityUrl ?? identityUrl, clientId: options.clientId, clientSecret: options.clientSecret };
}

/**
 * The settings a process may change through its environment:
 * PHARMACY_OUTBOX_POLL_MS, PHARMACY_OUTBOX_RETRY_BASE_MS, PHARMACY_OUTBOX_RETRY_MAX_MS,
 * and OUTBOX_MAX_REFUSALS and OUTBOX_RETENTION_HOURS (shared with identity's notices).
 */
export function readNotifierTiming(env: NodeJS.ProcessEnv = process.env): Pick<NotifierOptions, 'pollMs' | 'retryBaseMs' | 'retryMaxMs' | 'maxRefusals' | 'retentionHours'> {
  const s = parsePharmacySettings(env, ['PHARMACY_OUTBOX_POLL_MS', 'PHARMACY_OUTBOX_RETRY_BASE_MS', 'PHARMACY_OUTBOX_RETRY_MAX_MS']);
  return {
    pollMs: s.PHARMACY_OUTBOX_POLL_MS,
    retryBaseMs: s.PHARMACY_OUTBOX_RETRY_BASE_MS,
    retryMaxMs: s.PHARMACY_OUTBOX_RETRY_MAX_MS,
    ...readOutboxLimits(env),
  };
}

/**
 * The notifier of a pharmacy run on its own (scripts/subgraph.ts): MESSAGING_URL,
 * PHARMACY_CLIENT_ID and PHARMACY_CLIENT_SECRET, all three or none (no notifier:
 * decisions still queue their messages, and a later start with them delivers).
 */
export function readNotifierOptions(env: NodeJS.ProcessEnv = process.env): NotifierOptions | undefined {
  const { MESSAGING_URL: messagingUrl } = parseSettings(env, ['MESSAGING_URL']);
  const { PHARMACY_CLIENT_ID: clientId, PHARMACY_CLIENT_SECRET: clientSecret } = parsePharmacySettings(env, ['PHARMACY_CLIENT_ID', 'PHARMACY_CLIENT_SECRET']);
  if (!messagingUrl && !clientId && !clientSecret) return undefined;
  if (!messagingUrl || !clientId || !clientSecret) {
    throw new Error('Set MESSAGING_URL, PHARMACY_CLIENT_ID and PHARMACY_CLIENT_SECRET together (or none) for pharmacy to tell patients of decisions.');
  }
  return { messagingUrl, clientId, clientSecret, ...readNotifierTiming(env) };
}
