/**
 * Helpers for subgraph integration tests: a fresh database per test file (a
 * temporary SQLite file, or a unique PostgreSQL schema when the test project
 * runs on PostgreSQL), locally minted tokens, and GraphQL over HTTP.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { generateKeyPairSync } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { CareAccessCheck, ProxyGrant } from './access';
import { SignJWT } from 'jose';
import { Client } from 'pg';
import { signAccessToken, signingKeyFromPem, TOKEN_AUDIENCE, TOKEN_ISSUER, TokenVerifier, type Role, type SignInMethod, type SigningKey } from './auth/tokens';
import type { PortalConfig } from './config';
import { REQUEST_ID_HEADER, REQUEST_ID_PROOF_HEADER, requestIdProof } from './requestId';
import { startSubgraph, type RunningSubgraph, type SubgraphContext, type SubgraphModule } from './subgraph';

/** The PostgreSQL URL the current test project runs against, or undefined for SQLite. */
export function testDatabaseUrl(): string | undefined {
  return process.env.PORTAL_TEST_DB === 'postgres' ? process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test' : undefined;
}

/**
 * The Redis of the tests that need one: TEST_REDIS_URL when set (CI), else the local
 * Redis when it answered test/global-setup.js's PING; undefined when there is none.
 */
export function testRedisUrl(): string | undefined {
  const decided = process.env.PORTAL_TEST_REDIS;
  // No global setup ran (a file run some other way): as before, TEST_REDIS_URL or the local one.
  if (decided === undefined || decided === '') return process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
  return decided === 'none' ? undefined : decided;
}

/** Where a test's Redis constant points when there is none: a port nothing listens on, so a test that uses Redis without skipWithoutRedis fails rather than finding some other Redis. */
export const NO_TEST_REDIS = 'redis://127.0.0.1:1';

/**
 * First thing in the body of a describe whose tests need Redis:
 * `if (skipWithoutRedis('sessions in Redis')) return;`. Without a Redis for the tests it
 * prints a notice, declares one skipped test that says what was skipped (so Jest counts it),
 * and returns true.
 */
export function skipWithoutRedis(what: string): boolean {
  if (testRedisUrl()) return false;
  const where = process.env.PORTAL_TEST_REDIS_PROBED ?? 'redis://127.0.0.1:6379';
  const notice = `needs Redis, skipped: ${what} (TEST_REDIS_URL is unset and no Redis answers at ${where})`;
  console.warn(`[tests] ${notice}`);
  // Jest's global `it`, reached through globalThis: the build compiles this entry point without Jest's types.
  (globalThis as unknown as { it: { skip(name: string, fn: () => void): void } }).it.skip(notice, () => undefined);
  return true;
}

/** Every test server's REQUEST_ID_SECRET: `gql` proves the request ids tests send, as the gateway would. */
export const TEST_REQUEST_ID_SECRET = 'test-request-id-secret-0123456789abcdef';

/**
 * The Jest run's name (test/global-setup.js), part of every schema, Redis
 * prefix and directory a test creates, so that the run's global teardown can
 * find and remove what a failed test left behind. Empty outside a Jest run.
 */
function runTag(): string {
  return process.env.PORTAL_TEST_RUN ?? '';
}

/**
 * A new temporary directory: inside the run's own (removed by the global
 * teardown, whatever happens) when Jest runs, else in the system's. The test
 * that creates it still removes it (`removeTestDir`) once done.
 */
export function testTempDir(prefix = 'portal-test-'): string {
  const parent = process.env.PORTAL_TEST_TMP && fs.existsSync(process.env.PORTAL_TEST_TMP) ? process.env.PORTAL_TEST_TMP : os.tmpdir();
  return fs.mkdtempSync(path.join(parent, prefix));
}

/** Removes a directory of `testTempDir` or `testConfig`, and what is in it. */
export function removeTestDir(dir: string | undefined): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

/** Settings for a test: development mode, a fresh temporary DATA_DIR (the caller removes it: `removeTestDir(config.dataDir)`). */
export function testConfig(overrides: Partial<PortalConfig> = {}): PortalConfig {
  return {
    production: false,
    requestIdSecret: TEST_REQUEST_ID_SECRET,
    dataDir: overrides.dataDir ?? testTempDir(),
    databaseUrl: testDatabaseUrl(),
    identityUrl: 'http://127.0.0.1:1',
    // A test machine runs many suites at once on few cores: waits that production keeps short
    // (a pool connection within 3 s, identity within 2 s) are generous here, so a loaded
    // machine does not turn a correct answer into SERVICE_UNAVAILABLE. The tests of those
    // bounds set their own.
    identityTimeoutMs: 15_000,
    databasePool: { max: 10, acquireTimeoutMs: 30_000, statementTimeoutMs: 60_000 },
    ...overrides,
  };
}

/** A prefix of database (schema) names unique to one test stack: `t_<run><random>`. */
export function uniqueDatabasePrefix(): string {
  return `t_${runTag()}${randomBytes(4).toString('hex')}`;
}

/** A database name unique to this test run: `t_<run><random>_<subgraph>`. */
export function uniqueDatabaseName(subgraph: string): string {
  return `${uniqueDatabasePrefix()}_${subgraph.replace(/-/g, '_')}`;
}

/**
 * Drops every PostgreSQL schema whose name starts with `prefix` (a
 * `uniqueDatabasePrefix()`): for databases a test opened but holds no handle
 * to, such as those of a stack that refused to start. SQLite files go with
 * their directory.
 */
export async function dropTestDatabases(prefix: string): Promise<void> {
  const url = testDatabaseUrl();
  if (!url || !/^t_[a-z0-9]+$/.test(prefix)) return;
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)', [prefix]);
    for (const { nspname } of rows) await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** A Redis key prefix unique to one test: `portal-test-<run>-<random>:`. */
export function uniqueRedisKeyPrefix(): string {
  return `portal-test-${runTag() || 'norun'}-${randomBytes(4).toString('hex')}:`;
}

export async function testSigningKey(): Promise<SigningKey> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return signingKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
}

export interface TestViewer {
  personId: string;
  role?: Role;
  accountId?: string;
  method?: SignInMethod;
  careTeamIds?: string[];
  scopes?: string[];
}

export async function mintToken(key: SigningKey, viewer: TestViewer, ttlSeconds?: number): Promise<string> {
  const { token } = await signAccessToken(
    key,
    {
      accountId: viewer.accountId ?? `acct-${viewer.personId}`,
      personId: viewer.personId,
      role: viewer.role ?? 'PATIENT',
      method: viewer.method ?? 'DS_LOGON',
      sessionId: randomUUID(),
      careTeamIds: viewer.careTeamIds,
      scopes: viewer.scopes,
    },
    ttlSeconds,
  );
  return token;
}

/**
 * Signs any claims with `key`, as identity would sign an access token: for
 * tests of tokens that are well signed but wrong otherwise (audience, issuer,
 * expiry, session). `claims` replace the defaults of a valid token; a claim
 * set to undefined is left out.
 */
export async function signClaims(key: SigningKey, claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = { iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat: now, exp: now + 15 * 60, scope: '', teams: [], ...claims };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' }).sign(key.privateKey);
}

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [k: string]: unknown } }[];
}

/**
 * POSTs one operation as JSON, as a client app would. An `x-request-id` header
 * goes with its proof, as the gateway sends it (unless a proof is given).
 */
export async function gql<T = any>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string, headers: Record<string, string> = {}): Promise<GraphQLResponse<T>> {
  const authorization = token ? `Bearer ${token}` : undefined;
  const requestId = headers[REQUEST_ID_HEADER];
  const proof: Record<string, string> =
    requestId && !headers[REQUEST_ID_PROOF_HEADER] ? { [REQUEST_ID_PROOF_HEADER]: requestIdProof(TEST_REQUEST_ID_SECRET, requestId, authorization) } : {};
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}), ...proof, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: res.status, ...body };
}

export interface TestSubgraph {
  server: RunningSubgraph;
  key: SigningKey;
  url: string;
  token(viewer: TestViewer): Promise<string>;
  /** Statements run since the last reset. */
  statements(): number;
  resetStatements(): void;
  stop(): Promise<void>;
}

/**
 * Starts one subgraph on port 0 against a fresh database, verifying tokens
 * signed by a throw-away key. `careAccess` maps practitioner id -> patient ids;
 * `careTeams` maps person id -> care team ids (default: the token's `teams`).
 */
export async function startTestSubgraph<C extends SubgraphContext>(
  module: SubgraphModule<C>,
  options: {
    careAccess?: Record<string, string[]>;
    careTeams?: Record<string, string[]>;
    /** proxy person id -> patient id -> grant (default: no one is anyone's proxy). */
    proxyGrants?: Record<string, Record<string, ProxyGrant>>;
    configOverrides?: Partial<PortalConfig>;
  } = {},
): Promise<TestSubgraph> {
  const key = await testSigningKey();
  const config = testConfig(options.configOverrides);
  const careAccess: CareAccessCheck = async (viewer, ids) => {
    const allowed = new Set(options.careAccess?.[viewer.personId] ?? []);
    return new Set(ids.filter((id) => allowed.has(id)));
  };
  let server: RunningSubgraph;
  try {
    server = await startSubgraph(module, {
      config,
      databaseName: uniqueDatabaseName(module.name),
      verifier: new TokenVerifier({ jwks: { keys: [key.publicJwk] } }),
      careAccess,
      careTeams: async (viewer) => options.careTeams?.[viewer.personId] ?? viewer.careTeamIds,
      proxyAccess: async (viewer, ids) => {
        const grants = options.proxyGrants?.[viewer.personId] ?? {};
        return new Map(ids.filter((id) => grants[id]).map((id) => [id, grants[id]]));
      },
      // Pharmacy answers from its own database; any other subgraph under test has no pharmacy to ask.
      pharmacyAccess: module.pharmacyAccess ? undefined : async () => new Set<string>(),
    });
  } catch (e) {
    // Nobody gets a handle to stop: remove the directory here (a schema already created is the run's teardown's).
    removeTestDir(config.dataDir);
    throw e;
  }
  return {
    server,
    key,
    url: server.graphqlUrl,
    token: (viewer) => mintToken(key, viewer),
    statements: () => server.database.counter.count,
    resetStatements: () => {
      server.database.counter.count = 0;
    },
    stop: async () => {
      try {
        await server.close();
      } finally {
        try {
          await server.database.destroyAndDrop();
        } finally {
          removeTestDir(config.dataDir);
        }
      }
    },
  };
}

/**
 * Makes `audit_event` refuse every insert (a trigger, on either database)
 * until the returned function is called: for tests that a change whose audit
 * rows cannot be written is not stored either.
 */
export async function refuseAuditInserts(db: DataSource): Promise<() => Promise<void>> {
  if (db.options.type === 'postgres') {
    await db.query(`CREATE OR REPLACE FUNCTION audit_event_refuse_insert() RETURNS trigger AS $$
      BEGIN RAISE EXCEPTION 'audit_event refuses inserts (test)'; END; $$ LANGUAGE plpgsql`);
    await db.query('CREATE TRIGGER audit_event_refuse_insert BEFORE INSERT ON audit_event FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_insert()');
  } else {
    await db.query(`CREATE TRIGGER audit_event_refuse_insert BEFORE INSERT ON audit_event BEGIN SELECT RAISE(ABORT, 'audit_event refuses inserts (test)'); END`);
  }
  return async () => {
    await db.query(db.options.type === 'postgres' ? 'DROP TRIGGER audit_event_refuse_insert ON audit_event' : 'DROP TRIGGER audit_event_refuse_insert');
  };
}

export { startFaultProxy, type FaultProxy } from './faultProxy';

/** The SDK's in-memory span exporter and simple processor, for tests of traces (the kit's copy of the 2.x SDK). */
export { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** A port nobody listens on right now (for a process started later, which keeps it across restarts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The decisions of a subgraph's declared policy for a fixed cast of viewers (each subgraph's `policy.test.ts`). */
export { accessOf, allBut, CAST, DEFAULT_REFUSAL, decisionOf, decisionsOf, expectedDecisions, PROXIES, type CastMember, type Expected } from './policyTesting';
