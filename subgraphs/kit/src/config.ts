import path from 'node:path';
import { DEFAULT_EDGE_SETTINGS, edgeSettingsOf, type EdgeSettings } from './edge/settings';
import { RATE_LIMIT_ENV, RATE_LIMIT_NAMES, type RateLimitRule, type RateLimitSettings } from './rateLimit';
import { allSettings, parseSettingsOf, subgraphSettings, type SettingName, type Settings } from './settings';
import { readMetricsSettings, type MetricsSettings } from './metrics';
import { readLogSettings } from './logging';

export type DatabaseKind = 'sqlite' | 'postgres';

/**
 * Settings shared by every process, read from the environment in one place. A
 * subgraph with settings of its own adds their fields to this interface
 * (`declare module '@portal/kit' { interface PortalConfig {...} }` in its
 * `src/settings.ts`) and fills them in through `defineSubgraphSettings`.
 */
export interface PortalConfig {
  production: boolean;
  dataDir: string;
  databaseUrl?: string;
  /** Where subgraphs fetch identity's JWKS and ask care-team access questions. */
  identityUrl: string;
  tokenSigningKeyFile?: string;
  /** The smart-card CAs (PEM): identity checks cards against them, and the gateway takes card certificates from the TLS handshake. */
  smartcardCaFile?: string;
  /** Sessions live in Redis when set; otherwise identity's database holds them. */
  redisUrl?: string;
  /** Prefix of every Redis key, so deployments (and test runs) can share one Redis. */
  redisKeyPrefix?: string;
  /** Document, size and browser limits at every server's edge; defaults when unset. */
  edge?: EdgeSettings;
  /** IPs and CIDRs of the proxies (and, at a subgraph, the gateways) whose X-Forwarded-For is believed; loopback when unset. */
  trustedProxies?: string[];
  /** Rate limits that differ from DEFAULT_RATE_LIMITS (`RATE_LIMIT_*`). */
  rateLimits?: Partial<RateLimitSettings>;
  /** Where identity asks pharmacy which patients have a pending request (a pharmacist's right to see them). */
  pharmacyUrl?: string;
  /**
   * Where identity asks the other subgraphs for their part of a patient's
   * access log (`SCHEDULING_URL`, `MESSAGING_URL`, `CLINICAL_RECORDS_URL`;
   * pharmacy's is `pharmacyUrl`). A subgraph without an address here is
   * reported as an unavailable source of the log.
   */
  auditSourceUrls?: { scheduling?: string; messaging?: string; 'clinical-records'?: string };
  /** Shared by the gateway and the subgraphs: proves a forwarded request id came from the gateway (see requestId.ts). */
  requestIdSecret?: string;
  /**
   * How long a question to identity (JWKS, session check, care access) or to
   * pharmacy (a pharmacist's access) may take: short, so it fits in the
   * gateway's per-subgraph budget (`IDENTITY_TIMEOUT_MS`).
   */
  identityTimeoutMs?: number;
  /** The verified-token cache of every TokenVerifier in this process (`TOKEN_CACHE_SIZE`, `TOKEN_CACHE_TTL_MS`). */
  tokenCache?: TokenCacheSettings;
  /** How long a stopping server lets requests in flight finish before it cuts them (`SHUTDOWN_GRACE_MS`). */
  shutdownGraceMs?: number;
  /** PostgreSQL pool bounds (`DATABASE_POOL_MAX`, `DATABASE_ACQUIRE_TIMEOUT_MS`, `DATABASE_STATEMENT_TIMEOUT_MS`). */
  databasePool?: DatabasePoolSettings;
  /** Where Prometheus metrics are served, if anywhere (`METRICS_PORT`, `METRICS_HOST`, `METRICS_TOKEN`). */
  metrics?: MetricsSettings;
}

export interface DatabasePoolSettings {
  /** Connections per process and data source. */
  max: number;
  /** How long a request waits for a connection (a free one from the pool, or a new one) before SERVICE_UNAVAILABLE. */
  acquireTimeoutMs: number;
  /** How long one statement (and an idle open transaction) may take before PostgreSQL cancels it. */
  statementTimeoutMs: number;
}

/**
 * A verified token's claims are kept, keyed by the whole token, so the next
 * request with it skips the signature check: at most `size` tokens (least
 * recently used go first; 0 turns the cache off), each for at most `ttlMs`
 * and never past its own `exp`. Sessions are checked on every request all the same.
 */
export interface TokenCacheSettings {
  size: number;
  ttlMs: number;
}

export const DEFAULT_TOKEN_CACHE: TokenCacheSettings = { size: 10_000, ttlMs: 60_000 };

export const DEFAULT_IDENTITY_TIMEOUT_MS = 2_000;
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
export const DEFAULT_DATABASE_POOL: DatabasePoolSettings = { max: 10, acquireTimeoutMs: 3_000, statementTimeoutMs: 10_000 };

/** The edge settings of a config, defaults filled in. */
export const edgeOf = (config: Pick<PortalConfig, 'edge'>): EdgeSettings => config.edge ?? DEFAULT_EDGE_SETTINGS;
/**
 * Every setting, the kit's and those of every subgraph loaded in this process
 * (settings.ts, `defineSubgraphSettings`), checked in one pass first: a bad
 * value anywhere stops the start with one message naming it.
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): PortalConfig {
  const declared = subgraphSettings();
  const all = parseSettingsOf(allSettings(), env);
  const s = all as unknown as Settings;
  const production = s.NODE_ENV === 'production';
  const dataDir = path.resolve(s.DATA_DIR ?? '.data');
  const config: PortalConfig = {
    production,
    dataDir,
    databaseUrl: s.DATABASE_URL,
    identityUrl: s.IDENTITY_URL ?? `http://127.0.0.1:${s.IDENTITY_PORT ?? 4001}`,
    tokenSigningKeyFile: s.TOKEN_SIGNING_KEY_FILE,
    smartcardCaFile: s.SMARTCARD_CA_FILE,
    redisUrl: s.REDIS_URL,
    redisKeyPrefix: s.REDIS_KEY_PREFIX ?? 'portal:',
    edge: edgeSettingsOf(s),
    trustedProxies: s.TRUSTED_PROXIES,
    rateLimits: rateLimitsOf(s),
    requestIdSecret: s.REQUEST_ID_SECRET,
    pharmacyUrl: s.PHARMACY_URL ?? `http://127.0.0.1:${s.PHARMACY_PORT ?? 4004}`,
    auditSourceUrls: {
      scheduling: s.SCHEDULING_URL ?? `http://127.0.0.1:${s.SCHEDULING_PORT ?? 4002}`,
      // MESSAGING_URL unset keeps notices in the outbox; the access log still asks messaging's default address.
      messaging: s.MESSAGING_URL || `http://127.0.0.1:${s.MESSAGING_PORT ?? 4003}`,
      'clinical-records': s.CLINICAL_RECORDS_URL ?? `http://127.0.0.1:${s.CLINICAL_RECORDS_PORT ?? 4005}`,
    },
    identityTimeoutMs: s.IDENTITY_TIMEOUT_MS,
    shutdownGraceMs: s.SHUTDOWN_GRACE_MS,
    tokenCache: { size: s.TOKEN_CACHE_SIZE, ttlMs: s.TOKEN_CACHE_TTL_MS },
    databasePool: {
      max: s.DATABASE_POOL_MAX,
      acquireTimeoutMs: s.DATABASE_ACQUIRE_TIMEOUT_MS,
      statementTimeoutMs: s.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    metrics: readMetricsSettings(env),
  };
  for (const d of declared) Object.assign(config, d.config(all as never, { production, dataDir }));
  // LOG_LEVEL and LOG_FORMAT are read when the log is first used; a bad value stops the start here.
  readLogSettings(env);
  if (production) {
    const missing = [
      !config.tokenSigningKeyFile && 'TOKEN_SIGNING_KEY_FILE',
      !config.smartcardCaFile && 'SMARTCARD_CA_FILE',
      // A subgraph's own (identity's CRLs and card issuers).
      ...declared.flatMap((d) => d.missingInProduction?.(all as never) ?? []),
      // Shared by the gateway and every subgraph: the development one is generated per DATA_DIR.
      !config.requestIdSecret && 'REQUEST_ID_SECRET',
    ].filter(Boolean);
    if (missing.length) {
      throw new Error(`NODE_ENV=production refuses to start without ${missing.join(', ')} set explicitly.`);
    }
    // The development key is generated in DATA_DIR on first start; it must never sign production tokens.
    if (path.resolve(config.tokenSigningKeyFile!) === path.join(dataDir, 'keys', 'token-signing-key.pem')) {
      throw new Error('NODE_ENV=production refuses the development signing key under DATA_DIR/keys: give TOKEN_SIGNING_KEY_FILE a key of its own.');
    }
  }
  return config;
}

function rateLimitsOf(s: Settings): Partial<RateLimitSettings> {
  const out: Partial<RateLimitSettings> = {};
  for (const name of RATE_LIMIT_NAMES) {
    const rule = s[RATE_LIMIT_ENV[name] as SettingName] as RateLimitRule | undefined;
    if (rule) out[name] = rule;
  }
  return out;
}
