import { outboxSettings, readOutboxLimits, type OutboxSettings } from '@portal/kit';

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
  return {
    pollMs: positive(env, 'PHARMACY_OUTBOX_POLL_MS'),
    retryBaseMs: positive(env, 'PHARMACY_OUTBOX_RETRY_BASE_MS'),
    retryMaxMs: positive(env, 'PHARMACY_OUTBOX_RETRY_MAX_MS'),
    ...readOutboxLimits(env),
  };
}

/**
 * The notifier of a pharmacy run on its own (scripts/subgraph.ts): MESSAGING_URL,
 * PHARMACY_CLIENT_ID and PHARMACY_CLIENT_SECRET, all three or none (no notifier:
 * decisions still queue their messages, and a later start with them delivers).
 */
export function readNotifierOptions(env: NodeJS.ProcessEnv = process.env): NotifierOptions | undefined {
  const messagingUrl = env.MESSAGING_URL || undefined;
  const clientId = env.PHARMACY_CLIENT_ID || undefined;
  const clientSecret = env.PHARMACY_CLIENT_SECRET || undefined;
  if (!messagingUrl && !clientId && !clientSecret) return undefined;
  if (!messagingUrl || !clientId || !clientSecret) {
    throw new Error('Set MESSAGING_URL, PHARMACY_CLIENT_ID and PHARMACY_CLIENT_SECRET together (or none) for pharmacy to tell patients of decisions.');
  }
  if (!/^https?:\/\//.test(messagingUrl)) throw new Error('MESSAGING_URL must be an http(s):// URL.');
  return { messagingUrl, clientId, clientSecret, ...readNotifierTiming(env) };
}

function positive(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number of milliseconds.`);
  return n;
}
