import os from 'node:os';
import path from 'node:path';
import { DEFAULT_EDGE_SETTINGS, readEdgeSettings, type EdgeSettings } from './edge/settings';
import { parseTrustedProxies } from './clientAddress';
import { readRateLimitSettings, type RateLimitSettings } from './rateLimit';
import { readMetricsSettings, type MetricsSettings } from './metrics';
import { readLogSettings } from './logging';

export type DatabaseKind = 'sqlite' | 'postgres';

/** Settings shared by every process, read from the environment in one place. */
export interface PortalConfig {
  production: boolean;
  dataDir: string;
  databaseUrl?: string;
  /** Where subgraphs fetch identity's JWKS and ask care-team access questions. */
  identityUrl: string;
  tokenSigningKeyFile?: string;
  /** Earlier signing keys (PEM, private or public) whose tokens still verify after a rotation. */
  tokenPreviousKeyFiles?: string[];
  smartcardCaFile?: string;
  /** PEM CRLs of the smart-card CAs; required in production, where every issuing CA on a card's path must have one. */
  smartcardCrlFile?: string;
  /** How long past its nextUpdate a CRL is still believed; after that the cards it covers are refused. */
  smartcardCrlGraceHours?: number;
  /** The CAs whose cards sign in as CAC / PIV: subject DNs or SHA-256 fingerprints (hex) of the issuing CA certificates. */
  smartcardCacIssuers?: string[];
  smartcardPivIssuers?: string[];
  /** Certificate policy OIDs of which a CAC / PIV card's certificate must carry at least one; none means no policy check. */
  smartcardCacPolicyOids?: string[];
  smartcardPivPolicyOids?: string[];
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
  /** scrypt computations run at once per process, and how many may wait for one before a sign-in is refused. */
  passwordHashing?: { concurrency: number; queue: number };
  /** Where identity asks pharmacy which patients have a pending request (a pharmacist's right to see them). */
  pharmacyUrl?: string;
  /** Shared by the gateway and the subgraphs: proves a forwarded request id came from the gateway (see requestId.ts). */
  requestIdSecret?: string;
  /**
   * How long a question to identity (JWKS, session check, care access) or to
   * pharmacy (a pharmacist's access) may take: short, so it fits in the
   * gateway's per-subgraph budget (`IDENTITY_TIMEOUT_MS`).
   */
  identityTimeoutMs?: number;
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

export const DEFAULT_IDENTITY_TIMEOUT_MS = 2_000;
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
export const DEFAULT_DATABASE_POOL: DatabasePoolSettings = { max: 10, acquireTimeoutMs: 3_000, statementTimeoutMs: 10_000 };

/** The edge settings of a config, defaults filled in. */
export const edgeOf = (config: Pick<PortalConfig, 'edge'>): EdgeSettings => config.edge ?? DEFAULT_EDGE_SETTINGS;
/** Default grace for a CRL past its nextUpdate: a day, so a late CRL publication does not lock every card out at once. */
export const DEFAULT_CRL_GRACE_HOURS = 24;

function graceHours(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_CRL_GRACE_HOURS;
  const hours = Number(value);
  if (!Number.isFinite(hours) || hours < 0 || hours > 720) throw new Error('SMARTCARD_CRL_GRACE_HOURS must be a number of hours from 0 to 720.');
  return hours;
}

/** `;`-separated, since a DN holds commas. */
function issuerList(value: string | undefined): string[] | undefined {
  const items = (value ?? '').split(';').map((s) => s.trim()).filter(Boolean);
  return items.length ? items : undefined;
}

function oidList(name: string, value: string | undefined): string[] | undefined {
  const items = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.find((oid) => !/^[0-2](\.\d+)+$/.test(oid));
  if (bad) throw new Error(`${name}: ${bad} is not an OID (dotted digits, e.g. 2.16.840.1.101.2.1.11.42).`);
  return items.length ? items : undefined;
}

/**
 * scrypt computations at once: one core fewer than the machine has, at least one. Each hash
 * holds a core for about 66 ms; with every core hashing (2 on 2 cores) a password spray
 * tripled the p99 of everyone else's PortalView (bench:abuse), with one it rose 1.5x.
 */
export const DEFAULT_PASSWORD_HASH_CONCURRENCY = Math.max(1, os.availableParallelism() - 1);

export function readConfig(env: NodeJS.ProcessEnv = process.env): PortalConfig {
  const production = env.NODE_ENV === 'production';
  const dataDir = path.resolve(env.DATA_DIR || '.data');
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error('DATABASE_URL must be a postgres:// URL (unset it to use SQLite files under DATA_DIR).');
  }
  const config: PortalConfig = {
    production,
    dataDir,
    databaseUrl,
    identityUrl: env.IDENTITY_URL || `http://127.0.0.1:${env.IDENTITY_PORT || 4001}`,
    tokenSigningKeyFile: env.TOKEN_SIGNING_KEY_FILE || undefined,
    tokenPreviousKeyFiles: (env.TOKEN_PREVIOUS_KEY_FILES ?? '').split(',').map((f) => f.trim()).filter(Boolean),
    smartcardCaFile: env.SMARTCARD_CA_FILE || undefined,
    smartcardCrlFile: env.SMARTCARD_CRL_FILE || undefined,
    smartcardCrlGraceHours: graceHours(env.SMARTCARD_CRL_GRACE_HOURS),
    smartcardCacIssuers: issuerList(env.SMARTCARD_CAC_ISSUERS),
    smartcardPivIssuers: issuerList(env.SMARTCARD_PIV_ISSUERS),
    smartcardCacPolicyOids: oidList('SMARTCARD_CAC_POLICY_OIDS', env.SMARTCARD_CAC_POLICY_OIDS),
    smartcardPivPolicyOids: oidList('SMARTCARD_PIV_POLICY_OIDS', env.SMARTCARD_PIV_POLICY_OIDS),
    redisUrl: env.REDIS_URL || undefined,
    redisKeyPrefix: env.REDIS_KEY_PREFIX || 'portal:',
    edge: readEdgeSettings(env),
    trustedProxies: parseTrustedProxies(env.TRUSTED_PROXIES),
    rateLimits: readRateLimitSettings(env),
    passwordHashing: {
      concurrency: positiveInteger(env, 'PASSWORD_HASH_CONCURRENCY', DEFAULT_PASSWORD_HASH_CONCURRENCY),
      queue: positiveInteger(env, 'PASSWORD_HASH_QUEUE', 32, 0),
    },
    requestIdSecret: env.REQUEST_ID_SECRET || undefined,
    pharmacyUrl: env.PHARMACY_URL || `http://127.0.0.1:${env.PHARMACY_PORT || 4004}`,
    identityTimeoutMs: milliseconds(env, 'IDENTITY_TIMEOUT_MS', DEFAULT_IDENTITY_TIMEOUT_MS, 100, 60_000),
    shutdownGraceMs: milliseconds(env, 'SHUTDOWN_GRACE_MS', DEFAULT_SHUTDOWN_GRACE_MS, 0, 300_000),
    databasePool: {
      max: positiveInteger(env, 'DATABASE_POOL_MAX', DEFAULT_DATABASE_POOL.max),
      acquireTimeoutMs: milliseconds(env, 'DATABASE_ACQUIRE_TIMEOUT_MS', DEFAULT_DATABASE_POOL.acquireTimeoutMs, 100, 60_000),
      statementTimeoutMs: milliseconds(env, 'DATABASE_STATEMENT_TIMEOUT_MS', DEFAULT_DATABASE_POOL.statementTimeoutMs, 100, 3_600_000),
    },
    metrics: readMetricsSettings(env),
  };
  // LOG_LEVEL and LOG_FORMAT are read when the log is first used; a bad value stops the start here.
  readLogSettings(env);
  if (config.redisUrl && !/^rediss?:\/\//.test(config.redisUrl)) throw new Error('REDIS_URL must be a redis:// or rediss:// URL.');
  if (production) {
    const missing = [
      !config.tokenSigningKeyFile && 'TOKEN_SIGNING_KEY_FILE',
      !config.smartcardCaFile && 'SMARTCARD_CA_FILE',
      // Revocation must be checkable for every card, so it fails closed rather than open.
      !config.smartcardCrlFile && 'SMARTCARD_CRL_FILE',
      !config.smartcardCacIssuers && !config.smartcardPivIssuers && 'SMARTCARD_CAC_ISSUERS or SMARTCARD_PIV_ISSUERS',
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

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > 10_000) throw new Error(`${name} must be a whole number from ${min} to 10000.`);
  return value;
}

/** A whole number of milliseconds from `min` to `max`; a typo refuses to start rather than meaning "no limit". */
function milliseconds(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be a whole number of milliseconds from ${min} to ${max}.`);
  return value;
}
