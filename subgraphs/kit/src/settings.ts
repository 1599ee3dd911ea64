import { z } from 'zod';
import { parseTrustedProxies } from './clientAddress';
// Only functions of these modules are used, at parse time: they import this one (through config) in turn.
import { parseRateLimitRule, type RateLimitRule } from './rateLimit';

/**
 * The one schema of every setting of every service (the gateway, the five
 * subgraphs, the stack of `npm start`), read from the environment. Each
 * process checks the whole of it before it starts: a bad value stops the start
 * with one message that names every setting at fault and what is wrong with
 * it. `.env.example` and the README's "Settings" table list exactly these
 * names (a test, `settings.test.ts`, holds the three together).
 *
 * An empty value means unset, as it always has here. `example` is the value
 * `.env.example` shows: the default, or '' when the default is unset or
 * worked out at start (the CPU count, a file under DATA_DIR).
 */
interface Setting<T> {
  example: string;
  schema: z.ZodType<T, string | undefined>;
}

/** A raw value, '' and whitespace-only read as unset. */
const raw = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/** A parse that throws an Error whose message names the setting, turned into a zod issue. */
function parsed<T>(parse: (value: string | undefined) => T): z.ZodType<T, string | undefined> {
  return raw.transform((value, ctx) => {
    try {
      return parse(value);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  }) as unknown as z.ZodType<T, string | undefined>;
}

const setting = <T>(example: string, parse: (value: string | undefined) => T): Setting<T> => ({ example, schema: parsed(parse) });

/** Whole number in [min, max], or `fallback` when unset; `message` says what the setting takes. */
function whole(fallback: number | undefined, min: number, max: number, message: (raw: string) => string) {
  return (value: string | undefined) => {
    if (value === undefined) return fallback;
    const t = value.trim();
    const n = /^\d+$/.test(t) ? Number(t) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(message(value));
    return n;
  };
}

const ms = (name: string, fallback: number | undefined, min: number, max: number) =>
  setting(fallback === undefined ? '' : String(fallback), whole(fallback, min, max, () => `${name} must be a whole number of milliseconds from ${min} to ${max}.`) as (v: string | undefined) => number);
const count = (name: string, fallback: number, min: number, max = 10_000) =>
  setting(String(fallback), whole(fallback, min, max, () => `${name} must be a whole number from ${min} to ${max}.`) as (v: string | undefined) => number);
/** The edge limits: any positive whole number (up to ten digits). */
const limit = (name: string, fallback: number) =>
  setting(String(fallback), (v) => {
    if (v === undefined) return fallback;
    if (!/^[1-9][0-9]{0,9}$/.test(v.trim())) throw new Error(`${name} must be a positive whole number (got "${v}").`);
    return Number(v.trim());
  });
/** The gateway's subgraph limits; the message quotes the value (config.test.ts). */
const gatewayLimit = (name: string, fallback: number, min: number, max: number, unit: string) =>
  setting(String(fallback), whole(fallback, min, max, (v) => `${name} must be a whole number of ${unit} from ${min} to ${max} (got "${v.trim().slice(0, 40)}").`) as (v: string | undefined) => number);
/** Optional positive milliseconds; unset means the code's default (OUTBOX_DEFAULTS, the notice worker's). */
const optionalMs = (name: string, example: string) =>
  setting(example, (v) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number of milliseconds.`);
    return n;
  });
const port = (name: string, example: string) =>
  setting(example, (v) => {
    if (v === undefined) return undefined;
    const n = /^\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number.`);
    return n;
  });
const httpUrl = (name: string, example: string) =>
  setting(example, (v) => {
    if (v === undefined) return undefined;
    let ok = false;
    try {
      ok = /^https?:$/.test(new URL(v.trim()).protocol);
    } catch {
      ok = false;
    }
    if (!ok) throw new Error(`${name} must be an http(s):// URL (got "${v.slice(0, 80)}").`);
    return v.trim().replace(/\/$/, '');
  });
const text = (example: string) => setting(example, (v) => v);
const flag = (name: string, example: string) =>
  setting(example, (v) => {
    if (v === undefined) return undefined;
    if (v.trim() !== '0' && v.trim() !== '1') throw new Error(`${name} must be 1 or 0.`);
    return v.trim() === '1';
  });
/** `,`-separated list (files, OIDs); `;` for DNs, which hold commas. */
const list = (v: string | undefined, separator: string) => (v ?? '').split(separator).map((s) => s.trim()).filter(Boolean);
const oids = (name: string) =>
  setting('', (v) => {
    const items = list(v, ',');
    const bad = items.find((oid) => !/^[0-2](\.\d+)+$/.test(oid));
    if (bad) throw new Error(`${name}: ${bad} is not an OID (dotted digits, e.g. 2.16.840.1.101.2.1.11.42).`);
    return items.length ? items : undefined;
  });
const rateLimit = (name: string) => setting('', (v): RateLimitRule | undefined => (v === undefined ? undefined : parseRateLimitRule(v.trim(), name)));

export const SETTINGS = {
  // Where and how the processes run.
  NODE_ENV: setting('development', (v) => {
    if (v !== undefined && !['production', 'development', 'test'].includes(v.trim())) throw new Error(`NODE_ENV must be production, development or test (got "${v.slice(0, 40)}").`);
    return (v?.trim() ?? 'development') as 'production' | 'development' | 'test';
  }),
  PORT: port('PORT', '4000'),
  HOST: text('127.0.0.1'),
  DATA_DIR: text('.data'),
  DATABASE_URL: setting('', (v) => {
    if (v !== undefined && !/^postgres(ql)?:\/\//.test(v)) throw new Error('DATABASE_URL must be a postgres:// URL (unset it to use SQLite files under DATA_DIR).');
    return v;
  }),
  DATABASE_SCHEMA: setting('', (v) => {
    if (v !== undefined && !/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/.test(v)) throw new Error('DATABASE_SCHEMA must be a schema name: letters, digits, _ and -, up to 63, not starting with a digit.');
    return v;
  }),
  DATABASE_POOL_MAX: count('DATABASE_POOL_MAX', 10, 1),
  DATABASE_ACQUIRE_TIMEOUT_MS: ms('DATABASE_ACQUIRE_TIMEOUT_MS', 3_000, 100, 60_000),
  DATABASE_STATEMENT_TIMEOUT_MS: ms('DATABASE_STATEMENT_TIMEOUT_MS', 10_000, 100, 3_600_000),
  REDIS_URL: setting('', (v) => {
    if (v !== undefined && !/^rediss?:\/\//.test(v)) throw new Error('REDIS_URL must be a redis:// or rediss:// URL.');
    return v;
  }),
  REDIS_KEY_PREFIX: text('portal:'),
  SHUTDOWN_GRACE_MS: ms('SHUTDOWN_GRACE_MS', 10_000, 0, 300_000),
  // Logs, metrics and traces (checked in logging.ts, metrics.ts and tracing.ts).
  LOG_LEVEL: text('info'),
  LOG_FORMAT: text(''),
  METRICS_PORT: port('METRICS_PORT', ''),
  METRICS_HOST: text('127.0.0.1'),
  METRICS_TOKEN: text(''),
  OTEL_EXPORTER_OTLP_ENDPOINT: text(''),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: text(''),
  OTEL_EXPORTER_OTLP_HEADERS: text(''),
  OTEL_SERVICE_NAME: text(''),
  OTEL_TRACES_SAMPLER: text(''),
  OTEL_TRACES_SAMPLER_ARG: text(''),
  OTEL_SDK_DISABLED: text(''),
  TOKEN_CACHE_SIZE: setting('10000', whole(10_000, 0, 1_000_000, () => 'TOKEN_CACHE_SIZE must be a whole number from 0 (no cache) to 1000000.') as (v: string | undefined) => number),
  TOKEN_CACHE_TTL_MS: ms('TOKEN_CACHE_TTL_MS', 60_000, 0, 15 * 60_000),
  STACK_THREADS: setting('1', whole(1, 1, 2, () => 'STACK_THREADS must be 1 or 2.') as (v: string | undefined) => number),
  PORTAL_QUIET: flag('PORTAL_QUIET', '0'),
  PORTAL_LOG_ERRORS: flag('PORTAL_LOG_ERRORS', '1'),

  // Where the subgraphs are.
  IDENTITY_URL: httpUrl('IDENTITY_URL', 'http://127.0.0.1:4001'),
  SCHEDULING_URL: httpUrl('SCHEDULING_URL', 'http://127.0.0.1:4002'),
  MESSAGING_URL: httpUrl('MESSAGING_URL', ''),
  PHARMACY_URL: httpUrl('PHARMACY_URL', 'http://127.0.0.1:4004'),
  CLINICAL_RECORDS_URL: httpUrl('CLINICAL_RECORDS_URL', 'http://127.0.0.1:4005'),
  IDENTITY_PORT: port('IDENTITY_PORT', '4001'),
  PHARMACY_PORT: port('PHARMACY_PORT', '4004'),
  SCHEDULING_PORT: port('SCHEDULING_PORT', '4002'),
  MESSAGING_PORT: port('MESSAGING_PORT', '4003'),
  CLINICAL_RECORDS_PORT: port('CLINICAL_RECORDS_PORT', '4005'),
  IDENTITY_TIMEOUT_MS: ms('IDENTITY_TIMEOUT_MS', 2_000, 100, 60_000),
  SUBGRAPH_TIMEOUT_MS: gatewayLimit('SUBGRAPH_TIMEOUT_MS', 5_000, 100, 60_000, 'milliseconds'),
  SUBGRAPH_BREAKER_FAILURES: gatewayLimit('SUBGRAPH_BREAKER_FAILURES', 3, 1, 100, 'failures'),
  SUBGRAPH_BREAKER_RESET_MS: gatewayLimit('SUBGRAPH_BREAKER_RESET_MS', 5_000, 100, 600_000, 'milliseconds'),
  REQUEST_ID_SECRET: setting('', (v) => {
    if (v !== undefined && v.length < 32) throw new Error('REQUEST_ID_SECRET must be at least 32 characters.');
    return v;
  }),

  // Tokens and smart cards (identity).
  TOKEN_SIGNING_KEY_FILE: text(''),
  TOKEN_PREVIOUS_KEY_FILES: setting('', (v) => list(v, ',')),
  SMARTCARD_CA_FILE: text(''),
  SMARTCARD_CRL_FILE: text(''),
  // Card sign-in in the TLS handshake (gateway): checked in gateway/src/config.ts.
  TLS_CERT_FILE: text(''),
  TLS_KEY_FILE: text(''),
  CLIENT_CERT_HEADER: text(''),
  SMARTCARD_CRL_GRACE_HOURS: setting('24', (v) => {
    if (v === undefined) return 24;
    const hours = Number(v);
    if (!Number.isFinite(hours) || hours < 0 || hours > 720) throw new Error('SMARTCARD_CRL_GRACE_HOURS must be a number of hours from 0 to 720.');
    return hours;
  }),
  SMARTCARD_CAC_ISSUERS: setting('', (v) => (list(v, ';').length ? list(v, ';') : undefined)),
  SMARTCARD_PIV_ISSUERS: setting('', (v) => (list(v, ';').length ? list(v, ';') : undefined)),
  SMARTCARD_CAC_POLICY_OIDS: oids('SMARTCARD_CAC_POLICY_OIDS'),
  SMARTCARD_PIV_POLICY_OIDS: oids('SMARTCARD_PIV_POLICY_OIDS'),
  PASSWORD_HASH_CONCURRENCY: setting('', whole(undefined, 1, 10_000, () => 'PASSWORD_HASH_CONCURRENCY must be a whole number from 1 to 10000.')),
  PASSWORD_HASH_QUEUE: count('PASSWORD_HASH_QUEUE', 32, 0),

  // The edge: document, size and browser limits.
  GRAPHQL_MAX_DEPTH: limit('GRAPHQL_MAX_DEPTH', 20),
  GRAPHQL_MAX_ALIASES: limit('GRAPHQL_MAX_ALIASES', 30),
  GRAPHQL_MAX_ROOT_FIELDS: limit('GRAPHQL_MAX_ROOT_FIELDS', 20),
  GRAPHQL_MAX_DIRECTIVES: limit('GRAPHQL_MAX_DIRECTIVES', 20),
  GRAPHQL_MAX_TOKENS: limit('GRAPHQL_MAX_TOKENS', 3_000),
  GRAPHQL_MAX_COST: limit('GRAPHQL_MAX_COST', 50_000),
  GRAPHQL_LIST_SIZE: limit('GRAPHQL_LIST_SIZE', 10),
  GRAPHQL_MAX_ENTITIES: limit('GRAPHQL_MAX_ENTITIES', 1_000),
  GRAPHQL_MAX_QUERY_CHARS: limit('GRAPHQL_MAX_QUERY_CHARS', 20_000),
  GRAPHQL_MAX_VARIABLES_BYTES: limit('GRAPHQL_MAX_VARIABLES_BYTES', 256_000),
  HTTP_MAX_BODY_BYTES: limit('HTTP_MAX_BODY_BYTES', 1_000_000),
  HTTP_MAX_RESPONSE_BYTES: limit('HTTP_MAX_RESPONSE_BYTES', 10_000_000),
  CORS_ORIGINS: setting('', (v) => {
    const origins = list(v, ',');
    for (const origin of origins) {
      let url: URL | undefined;
      try {
        url = new URL(origin);
      } catch {
        url = undefined;
      }
      // Exact origins only: a browser sends "scheme://host[:port]", never a path or a wildcard.
      if (!url || !/^https?:$/.test(url.protocol) || url.origin !== origin) {
        throw new Error(`CORS_ORIGINS takes exact origins such as https://portal.example.mil, comma-separated (got "${origin}").`);
      }
    }
    return origins;
  }),
  TRUSTED_DOCUMENTS: setting('0', (v) => {
    if (v !== undefined && !['0', '1'].includes(v.trim())) throw new Error('TRUSTED_DOCUMENTS must be 1 (only the contract operations) or 0.');
    return v?.trim() === '1';
  }),
  TRUSTED_PROXIES: setting('loopback', (v) => parseTrustedProxies(v)),

  // Rate limits: `<per address>,<global>`; unset takes DEFAULT_RATE_LIMITS.
  RATE_LIMIT_SIGN_IN: rateLimit('RATE_LIMIT_SIGN_IN'),
  RATE_LIMIT_SIGN_IN_FAILURES: rateLimit('RATE_LIMIT_SIGN_IN_FAILURES'),
  RATE_LIMIT_CHALLENGE: rateLimit('RATE_LIMIT_CHALLENGE'),
  RATE_LIMIT_ACCOUNT: rateLimit('RATE_LIMIT_ACCOUNT'),
  RATE_LIMIT_TOKEN: rateLimit('RATE_LIMIT_TOKEN'),
  RATE_LIMIT_RECORD_DOWNLOAD: rateLimit('RATE_LIMIT_RECORD_DOWNLOAD'),
  RATE_LIMIT_ANONYMOUS: rateLimit('RATE_LIMIT_ANONYMOUS'),

  // Outboxes: identity's notices and pharmacy's messages to patients.
  IDENTITY_NOTICE_POLL_MS: optionalMs('IDENTITY_NOTICE_POLL_MS', '2000'),
  PHARMACY_OUTBOX_POLL_MS: optionalMs('PHARMACY_OUTBOX_POLL_MS', '2000'),
  PHARMACY_OUTBOX_RETRY_BASE_MS: optionalMs('PHARMACY_OUTBOX_RETRY_BASE_MS', '1000'),
  PHARMACY_OUTBOX_RETRY_MAX_MS: optionalMs('PHARMACY_OUTBOX_RETRY_MAX_MS', '60000'),
  OUTBOX_MAX_REFUSALS: setting('10', whole(undefined, 1, 1_000, () => 'OUTBOX_MAX_REFUSALS must be a whole number of attempts from 1 to 1000.')),
  OUTBOX_RETENTION_HOURS: setting('168', whole(undefined, 1, 87_600, () => 'OUTBOX_RETENTION_HOURS must be a whole number of hours from 1 to 87600.')),
  PHARMACY_CLIENT_ID: text(''),
  PHARMACY_CLIENT_SECRET: text(''),
} satisfies Record<string, Setting<unknown>>;

export type SettingName = keyof typeof SETTINGS;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];
export type Settings = { [K in SettingName]: z.output<(typeof SETTINGS)[K]['schema']> };

const SCHEMA = z.object(Object.fromEntries(SETTING_NAMES.map((name) => [name, SETTINGS[name].schema])) as { [K in SettingName]: (typeof SETTINGS)[K]['schema'] });

/** A setting refused at start: the message names each setting at fault. */
export class SettingsError extends Error {
  override name = 'SettingsError';
  constructor(readonly problems: { setting: string; message: string }[]) {
    super(problems.map((p) => p.message).join('\n'));
  }
}

/**
 * Checks every setting of `env` against the schema and returns their values,
 * defaults filled in; throws one SettingsError naming each bad setting.
 * `only` checks just those (the readers of one part, e.g. readEdgeSettings).
 */
export function parseSettings(env: NodeJS.ProcessEnv = process.env, only?: readonly SettingName[]): Settings {
  const names = only ?? SETTING_NAMES;
  const input = Object.fromEntries(names.map((n) => [n, env[n]]));
  const schema = only ? SCHEMA.pick(Object.fromEntries(only.map((n) => [n, true])) as Record<SettingName, true>) : SCHEMA;
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new SettingsError(
      result.error.issues.map((issue) => {
        const setting = String(issue.path[0] ?? '');
        return { setting, message: issue.message.includes(setting) ? issue.message : `${setting}: ${issue.message}` };
      }),
    );
  }
  return result.data as Settings;
}
