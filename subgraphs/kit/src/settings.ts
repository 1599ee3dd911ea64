import { z } from 'zod';
import type { PortalConfig } from './config';
import { parseTrustedProxies } from './clientAddress';
// Only functions of these modules are used, at parse time: they import this one (through config) in turn.
import { parseRateLimitRule, type RateLimitRule } from './rateLimit';

/**
 * The schema of the settings every service shares (the gateway, the five
 * subgraphs, the stack of `npm start`), read from the environment. A setting
 * only one subgraph reads is in that subgraph's own `src/settings.ts`, which
 * extends this schema with `defineSubgraphSettings`. Each process checks the
 * kit's and every loaded subgraph's before it starts (`readConfig`): a bad
 * value stops the start with one message that names every setting at fault and
 * what is wrong with it. `.env.example` and the README's "Settings" table list
 * exactly the names of all of them (a test, `server/src/settings.test.ts`,
 * holds the three together).
 *
 * An empty value means unset, as it always has here. `example` is the value
 * `.env.example` shows: the default, or '' when the default is unset or
 * worked out at start (the CPU count, a file under DATA_DIR).
 */
export interface Setting<T> {
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
export const countSetting = (name: string, fallback: number, min: number, max = 10_000) =>
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
export const optionalMs = (name: string, example: string) =>
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
export const httpUrlSetting = (name: string, example: string) =>
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
export const textSetting = (example: string) => setting(example, (v) => v);
const flag = (name: string, example: string) =>
  setting(example, (v) => {
    if (v === undefined) return undefined;
    if (v.trim() !== '0' && v.trim() !== '1') throw new Error(`${name} must be 1 or 0.`);
    return v.trim() === '1';
  });
/** `,`-separated list (files, OIDs); `;` for DNs, which hold commas. */
export const settingList = (v: string | undefined, separator: string) => (v ?? '').split(separator).map((s) => s.trim()).filter(Boolean);
export const oidsSetting = (name: string) =>
  setting('', (v) => {
    const items = settingList(v, ',');
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
  HOST: textSetting('127.0.0.1'),
  DATA_DIR: textSetting('.data'),
  DATABASE_URL: setting('', (v) => {
    if (v !== undefined && !/^postgres(ql)?:\/\//.test(v)) throw new Error('DATABASE_URL must be a postgres:// URL (unset it to use SQLite files under DATA_DIR).');
    return v;
  }),
  DATABASE_SCHEMA: setting('', (v) => {
    if (v !== undefined && !/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/.test(v)) throw new Error('DATABASE_SCHEMA must be a schema name: letters, digits, _ and -, up to 63, not starting with a digit.');
    return v;
  }),
  DATABASE_POOL_MAX: countSetting('DATABASE_POOL_MAX', 10, 1),
  DATABASE_ACQUIRE_TIMEOUT_MS: ms('DATABASE_ACQUIRE_TIMEOUT_MS', 3_000, 100, 60_000),
  DATABASE_STATEMENT_TIMEOUT_MS: ms('DATABASE_STATEMENT_TIMEOUT_MS', 10_000, 100, 3_600_000),
  REDIS_URL: setting('', (v) => {
    if (v !== undefined && !/^rediss?:\/\//.test(v)) throw new Error('REDIS_URL must be a redis:// or rediss:// URL.');
    return v;
  }),
  REDIS_KEY_PREFIX: textSetting('portal:'),
  SHUTDOWN_GRACE_MS: ms('SHUTDOWN_GRACE_MS', 10_000, 0, 300_000),
  // Logs, metrics and traces (checked in logging.ts, metrics.ts and tracing.ts).
  LOG_LEVEL: textSetting('info'),
  LOG_FORMAT: textSetting(''),
  METRICS_PORT: port('METRICS_PORT', ''),
  METRICS_HOST: textSetting('127.0.0.1'),
  METRICS_TOKEN: textSetting(''),
  OTEL_EXPORTER_OTLP_ENDPOINT: textSetting(''),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: textSetting(''),
  OTEL_EXPORTER_OTLP_HEADERS: textSetting(''),
  OTEL_SERVICE_NAME: textSetting(''),
  OTEL_TRACES_SAMPLER: textSetting(''),
  OTEL_TRACES_SAMPLER_ARG: textSetting(''),
  OTEL_SDK_DISABLED: textSetting(''),
  TOKEN_CACHE_SIZE: setting('10000', whole(10_000, 0, 1_000_000, () => 'TOKEN_CACHE_SIZE must be a whole number from 0 (no cache) to 1000000.') as (v: string | undefined) => number),
  TOKEN_CACHE_TTL_MS: ms('TOKEN_CACHE_TTL_MS', 60_000, 0, 15 * 60_000),
  STACK_THREADS: setting('auto', (v): 'auto' | 1 | 2 => {
    if (v === undefined || v.trim() === 'auto') return 'auto';
    if (v.trim() === '1' || v.trim() === '2') return Number(v.trim()) as 1 | 2;
    throw new Error('STACK_THREADS must be auto, 1 or 2.');
  }),
  PORTAL_QUIET: flag('PORTAL_QUIET', '0'),
  PORTAL_LOG_ERRORS: flag('PORTAL_LOG_ERRORS', '1'),

  // Where the subgraphs are.
  IDENTITY_URL: httpUrlSetting('IDENTITY_URL', 'http://127.0.0.1:4001'),
  SCHEDULING_URL: httpUrlSetting('SCHEDULING_URL', 'http://127.0.0.1:4002'),
  MESSAGING_URL: httpUrlSetting('MESSAGING_URL', ''),
  PHARMACY_URL: httpUrlSetting('PHARMACY_URL', 'http://127.0.0.1:4004'),
  CLINICAL_RECORDS_URL: httpUrlSetting('CLINICAL_RECORDS_URL', 'http://127.0.0.1:4005'),
  IDENTITY_PORT: port('IDENTITY_PORT', '4001'),
  PHARMACY_PORT: port('PHARMACY_PORT', '4004'),
  SCHEDULING_PORT: port('SCHEDULING_PORT', '4002'),
  MESSAGING_PORT: port('MESSAGING_PORT', '4003'),
  CLINICAL_RECORDS_PORT: port('CLINICAL_RECORDS_PORT', '4005'),
  IDENTITY_TIMEOUT_MS: ms('IDENTITY_TIMEOUT_MS', 2_000, 100, 60_000),
  SUBGRAPH_TIMEOUT_MS: gatewayLimit('SUBGRAPH_TIMEOUT_MS', 5_000, 100, 60_000, 'milliseconds'),
  SUBGRAPH_BREAKER_FAILURES: gatewayLimit('SUBGRAPH_BREAKER_FAILURES', 3, 1, 100, 'failures'),
  SUBGRAPH_BREAKER_RESET_MS: gatewayLimit('SUBGRAPH_BREAKER_RESET_MS', 5_000, 100, 600_000, 'milliseconds'),
  SUBGRAPH_FETCH_MERGING: flag('SUBGRAPH_FETCH_MERGING', '1'),
  REQUEST_ID_SECRET: setting('', (v) => {
    if (v !== undefined && v.length < 32) throw new Error('REQUEST_ID_SECRET must be at least 32 characters.');
    return v;
  }),

  // Tokens and smart cards: the signing key (identity; the kit's token checks read it) and the
  // card CAs (identity; the gateway's card sign-in in the TLS handshake). Identity's own card,
  // key and password settings are in subgraphs/identity/src/settings.ts.
  TOKEN_SIGNING_KEY_FILE: textSetting(''),
  SMARTCARD_CA_FILE: textSetting(''),
  // Card sign-in in the TLS handshake (gateway): checked in gateway/src/config.ts.
  TLS_CERT_FILE: textSetting(''),
  TLS_KEY_FILE: textSetting(''),
  CLIENT_CERT_HEADER: textSetting(''),

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
    const origins = settingList(v, ',');
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

  // Outboxes: identity's notices and pharmacy's messages to patients (each one's poll and
  // retry timing is in its own settings.ts).
  OUTBOX_MAX_REFUSALS: setting('10', whole(undefined, 1, 1_000, () => 'OUTBOX_MAX_REFUSALS must be a whole number of attempts from 1 to 1000.')),
  OUTBOX_RETENTION_HOURS: setting('168', whole(undefined, 1, 87_600, () => 'OUTBOX_RETENTION_HOURS must be a whole number of hours from 1 to 87600.')),
} satisfies Record<string, Setting<unknown>>;

export type SettingName = keyof typeof SETTINGS;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];
/** Any schema of settings: the kit's, or a subgraph's own. */
export type SettingsSchema = Record<string, Setting<unknown>>;
/** The values of a schema's settings, defaults filled in. */
export type SettingsOf<S extends SettingsSchema> = { [K in keyof S]: z.output<S[K]['schema']> };
export type Settings = SettingsOf<typeof SETTINGS>;

/** A setting refused at start: the message names each setting at fault. */
export class SettingsError extends Error {
  override name = 'SettingsError';
  constructor(readonly problems: { setting: string; message: string }[]) {
    super(problems.map((p) => p.message).join('\n'));
  }
}

/**
 * Checks every setting of `env` against the kit's schema and returns their
 * values, defaults filled in; throws one SettingsError naming each bad setting.
 * `only` checks just those (the readers of one part, e.g. readEdgeSettings).
 */
export function parseSettings(env: NodeJS.ProcessEnv = process.env, only?: readonly SettingName[]): Settings {
  return parseSettingsOf(SETTINGS, env, only);
}

/** As parseSettings, against any schema (a subgraph's own, or the kit's and every subgraph's together). */
export function parseSettingsOf<S extends SettingsSchema>(settings: S, env: NodeJS.ProcessEnv = process.env, only?: readonly (keyof S & string)[]): SettingsOf<S> {
  const names = only ?? (Object.keys(settings) as (keyof S & string)[]);
  const input = Object.fromEntries(names.map((n) => [n, env[n]]));
  const schema = z.object(Object.fromEntries(names.map((n) => [n, settings[n].schema])));
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new SettingsError(
      result.error.issues.map((issue) => {
        const setting = String(issue.path[0] ?? '');
        return { setting, message: issue.message.includes(setting) ? issue.message : `${setting}: ${issue.message}` };
      }),
    );
  }
  return result.data as SettingsOf<S>;
}

/**
 * A subgraph's own settings: its schema (names no other part reads), how its
 * values go into the process's PortalConfig (whose fields it declares by
 * augmenting `PortalConfig` from `@portal/kit`), and which of them production
 * refuses to start without.
 */
export interface SubgraphSettings<S extends SettingsSchema = SettingsSchema> {
  /** The subgraph (its name in SUBGRAPHS). */
  readonly owner: string;
  readonly settings: S;
  config(values: SettingsOf<S>, base: { production: boolean; dataDir: string }): Partial<PortalConfig>;
  /** The names (or "A or B") production refuses to start without, when unset. */
  missingInProduction?(values: SettingsOf<S>): string[];
}

const SUBGRAPH_SETTINGS: SubgraphSettings[] = [];

/**
 * Declares a subgraph's own settings, extending the kit's: registered with the
 * kit when the subgraph's `src/settings.ts` loads, so `readConfig` checks them
 * with the kit's in one pass and fills in the subgraph's part of the config.
 * Refuses a name the kit or another subgraph already has.
 */
export function defineSubgraphSettings<S extends SettingsSchema>(declared: SubgraphSettings<S>): SubgraphSettings<S> {
  const existing = SUBGRAPH_SETTINGS.find((d) => d.owner === declared.owner);
  // A second load of the same module (jest's module registry per file) declares the same names again.
  if (existing && Object.keys(existing.settings).join() === Object.keys(declared.settings).join()) return existing as unknown as SubgraphSettings<S>;
  for (const name of Object.keys(declared.settings)) {
    if (name in SETTINGS) throw new Error(`setting ${name} of ${declared.owner} is one of the kit's`);
    const other = SUBGRAPH_SETTINGS.find((d) => name in d.settings);
    if (other) throw new Error(`setting ${name} of ${declared.owner} is already ${other.owner}'s`);
  }
  SUBGRAPH_SETTINGS.push(declared as unknown as SubgraphSettings);
  return declared;
}

/** The subgraphs' own settings declared in this process, in the order they loaded. */
export const subgraphSettings = (): readonly SubgraphSettings[] => [...SUBGRAPH_SETTINGS];

/** The builders a subgraph's settings.ts declares its settings with (the kit's own use them too). */
export { setting as defineSetting, whole as wholeNumber };

/** The kit's schema with every loaded subgraph's: what `.env.example` and README's table list. */
export const allSettings = (): SettingsSchema => Object.assign({}, SETTINGS, ...SUBGRAPH_SETTINGS.map((d) => d.settings));
