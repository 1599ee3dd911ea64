/**
 * Settings of the notifier: the outbox worker that delivers pharmacy's
 * messages to patients through messaging's `postCareTeamMessage`.
 */

export interface NotifierOptions {
  /** Base URL of messaging (e.g. http://127.0.0.1:4003); the worker calls its /graphql directly. */
  messagingUrl: string;
  /** Base URL of identity, for `POST /oauth/token`; the subgraph's IDENTITY_URL when left out. */
  identityUrl?: string;
  /** Pharmacy's service credential, with scope messaging:write. */
  clientId: string;
  clientSecret: string;
  /** How often the worker looks for due messages besides being kicked after each decision. */
  pollMs?: number;
  /** Delay after the first failed attempt; doubles with every further failure... */
  retryBaseMs?: number;
  /** ...up to this. Retries never stop: a message is never dropped. */
  retryMaxMs?: number;
  /** How long a claimed message stays with one worker before another may try it (a crashed worker's lapse). */
  leaseMs?: number;
  /** Messages claimed at once. */
  batchSize?: number;
  /** How long one call to identity or messaging may take. */
  requestTimeoutMs?: number;
}

export type NotifierSettings = Required<NotifierOptions>;

export const NOTIFIER_DEFAULTS = {
  pollMs: 2_000,
  retryBaseMs: 1_000,
  retryMaxMs: 60_000,
  leaseMs: 30_000,
  batchSize: 20,
  requestTimeoutMs: 10_000,
} as const;

export function notifierSettings(options: NotifierOptions, identityUrl: string): NotifierSettings {
  return { ...NOTIFIER_DEFAULTS, identityUrl, ...dropUndefined(options) } as NotifierSettings;
}

/** Milliseconds to wait after the `attempts`-th failed attempt: base, 2 x base, 4 x base, ... capped. */
export function retryDelay(attempts: number, s: Pick<NotifierSettings, 'retryBaseMs' | 'retryMaxMs'>): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 30);
  return Math.min(s.retryMaxMs, s.retryBaseMs * 2 ** exponent);
}

/**
 * The timing settings a process may change through its environment:
 * PHARMACY_OUTBOX_POLL_MS, PHARMACY_OUTBOX_RETRY_BASE_MS, PHARMACY_OUTBOX_RETRY_MAX_MS.
 */
export function readNotifierTiming(env: NodeJS.ProcessEnv = process.env): Pick<NotifierOptions, 'pollMs' | 'retryBaseMs' | 'retryMaxMs'> {
  return {
    pollMs: positive(env, 'PHARMACY_OUTBOX_POLL_MS'),
    retryBaseMs: positive(env, 'PHARMACY_OUTBOX_RETRY_BASE_MS'),
    retryMaxMs: positive(env, 'PHARMACY_OUTBOX_RETRY_MAX_MS'),
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

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
