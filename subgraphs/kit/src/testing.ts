/**
 * Helpers for subgraph integration tests: a fresh database per test file (a
 * temporary SQLite file, or a unique PostgreSQL schema when the test project
 * runs on PostgreSQL), locally minted tokens, and GraphQL over HTTP.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { generateKeyPairSync } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { CareAccessCheck } from './access';
import { signAccessToken, signingKeyFromPem, TokenVerifier, type Role, type SignInMethod, type SigningKey } from './auth/tokens';
import type { PortalConfig } from './config';
import { REQUEST_ID_HEADER, REQUEST_ID_PROOF_HEADER, requestIdProof } from './requestId';
import { startSubgraph, type RunningSubgraph, type SubgraphContext, type SubgraphModule } from './subgraph';

/** The PostgreSQL URL the current test project runs against, or undefined for SQLite. */
export function testDatabaseUrl(): string | undefined {
  return process.env.PORTAL_TEST_DB === 'postgres' ? process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test' : undefined;
}

/** Every test server's REQUEST_ID_SECRET: `gql` proves the request ids tests send, as the gateway would. */
export const TEST_REQUEST_ID_SECRET = 'test-request-id-secret-0123456789abcdef';

export function testConfig(overrides: Partial<PortalConfig> = {}): PortalConfig {
  return {
    production: false,
    requestIdSecret: TEST_REQUEST_ID_SECRET,
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'portal-test-')),
    databaseUrl: testDatabaseUrl(),
    identityUrl: 'http://127.0.0.1:1',
    ...overrides,
  };
}

/** A database name unique to this test run: `t_<random>_<subgraph>`. */
export function uniqueDatabaseName(subgraph: string): string {
  return `t_${randomBytes(4).toString('hex')}_${subgraph.replace(/-/g, '_')}`;
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
  options: { careAccess?: Record<string, string[]>; careTeams?: Record<string, string[]>; configOverrides?: Partial<PortalConfig> } = {},
): Promise<TestSubgraph> {
  const key = await testSigningKey();
  const config = testConfig(options.configOverrides);
  const careAccess: CareAccessCheck = async (viewer, ids) => {
    const allowed = new Set(options.careAccess?.[viewer.personId] ?? []);
    return new Set(ids.filter((id) => allowed.has(id)));
  };
  const server = await startSubgraph(module, {
    config,
    databaseName: uniqueDatabaseName(module.name),
    verifier: new TokenVerifier({ jwks: { keys: [key.publicJwk] } }),
    careAccess,
    careTeams: async (viewer) => options.careTeams?.[viewer.personId] ?? viewer.careTeamIds,
    // Pharmacy answers from its own database; any other subgraph under test has no pharmacy to ask.
    pharmacyAccess: module.pharmacyAccess ? undefined : async () => new Set<string>(),
  });
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
      await server.close();
      await server.database.destroyAndDrop();
      fs.rmSync(config.dataDir, { recursive: true, force: true });
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
