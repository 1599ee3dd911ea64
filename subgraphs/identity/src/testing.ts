/**
 * Helpers for identity's integration tests: a test PKI written to files the
 * way a deployment configures one, identity started on it with a clock the
 * test moves, and the smart-card calls a client makes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startSubgraph, type PortalConfig, type RunningSubgraph } from '@portal/kit';
import { closeRedis, openRedis } from '@portal/kit';
import { gql, removeTestDir, testConfig, NO_TEST_REDIS, testRedisUrl, testTempDir, uniqueDatabaseName, uniqueRedisKeyPrefix, type GraphQLResponse } from '@portal/kit/testing';
import { createIdentityModule } from './module';
import { seedDemo } from './seed';
import { certificatePem, createCrl, createIntermediateCa, createRootCa, issueCard, signChallenge, type CardOptions, type Issued } from './smartcard/pki';

/** The tests' Redis (kit testRedisUrl); tests that use it start with skipWithoutRedis. */
export const REDIS_URL = testRedisUrl() ?? NO_TEST_REDIS;

/** A root CA and an intermediate, both in the trusted bundle, plus CAs the bundle does not trust. */
export interface TestPki {
  root: Issued;
  intermediate: Issued;
  /** Issued by the trusted root but not in the bundle: its cards must send it after the leaf. */
  unbundled: Issued;
  /** A CA nobody trusts, with the same name as the intermediate. */
  impostor: Issued;
  /** The directory of caFile and crlFile, for the test to remove (`removeTestDir`). */
  dir: string;
  caFile: string;
  crlFile: string;
  card(options: CardOptions, issuer?: Issued): Promise<Issued>;
  /** Rewrites the CRL file: CRLs by the intermediate revoking `revoked`, by the root and the unbundled CA revoking nothing, and by the impostor revoking `forged`. */
  writeCrls(revoked: Issued[], forged?: Issued[]): Promise<void>;
}

/** A test PKI written into a new temporary directory, `pki.dir`: the caller removes it. */
export async function createTestPki(dir = testTempDir('identity-pki-')): Promise<TestPki> {
  const root = await createRootCa('CN=Test Root CA, O=Portal Tests, C=US');
  const intermediate = await createIntermediateCa(root, 'CN=Test ID CA-1, O=Portal Tests, C=US');
  const unbundled = await createIntermediateCa(root, 'CN=Test ID CA-2, O=Portal Tests, C=US', { keyKind: 'P-256' });
  const impostorRoot = await createRootCa('CN=Impostor Root, O=Nobody, C=US');
  const impostor = await createIntermediateCa(impostorRoot, 'CN=Test ID CA-1, O=Portal Tests, C=US');
  const caFile = path.join(dir, 'trusted-ca.pem');
  const crlFile = path.join(dir, 'crls.pem');
  fs.writeFileSync(caFile, certificatePem(intermediate) + certificatePem(root));
  const pki: TestPki = {
    root,
    intermediate,
    unbundled,
    impostor,
    dir,
    caFile,
    crlFile,
    card: (options, issuer = intermediate) => issueCard(issuer, options),
    async writeCrls(revoked, forged = []) {
      // Every CA of the trusted hierarchy publishes one (each issuing CA on a path must have a CRL), the impostor a forged one.
      const crls = [
        await createCrl(intermediate, revoked.map((c) => c.cert)),
        await createCrl(root, []),
        await createCrl(unbundled, []),
        await createCrl(impostor, forged.map((c) => c.cert)),
      ];
      fs.writeFileSync(crlFile, crls.map((c) => c.toString('pem')).join('\n'));
    },
  };
  await pki.writeCrls([]);
  return pki;
}

/** A clock the test moves; starts at the real time. */
export function testClock() {
  let offset = 0;
  let frozen: number | null = null;
  return {
    now: () => new Date((frozen ?? Date.now()) + offset),
    advance(ms: number) {
      offset += ms;
    },
    /** Stops the clock (until `thaw`), so a test of delays does not depend on how fast the machine runs. */
    freeze() {
      frozen = Date.now();
    },
    thaw() {
      frozen = null;
    },
  };
}

export interface TestIdentity {
  server: RunningSubgraph;
  config: PortalConfig;
  /** Start another instance with this name (and `config`) to share the database. */
  databaseName: string;
  clock: ReturnType<typeof testClock>;
  query<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse<T>>;
  challenge(): Promise<string>;
  signInWithCard(card: Issued, options?: { challenge?: string; chain?: Issued[]; signWith?: Issued; signed?: string }): Promise<GraphQLResponse>;
  signIn(username: string, password: string): Promise<string>;
  stop(): Promise<void>;
}

export interface StartOptions {
  pki?: TestPki;
  redis?: boolean;
  config?: Partial<PortalConfig>;
  databaseName?: string;
}

/** Identity on a fresh database (or `databaseName`), seeded with the demo cast, trusting `pki`. */
export async function startIdentity(options: StartOptions = {}): Promise<TestIdentity> {
  const clock = testClock();
  const config = testConfig({
    ...(options.pki ? { smartcardCaFile: options.pki.caFile, smartcardCrlFile: options.pki.crlFile } : {}),
    ...(options.redis ? { redisUrl: REDIS_URL, redisKeyPrefix: uniqueRedisKeyPrefix() } : {}),
    ...options.config,
  });
  const databaseName = options.databaseName ?? uniqueDatabaseName('identity');
  const server = await startSubgraph(createIdentityModule({ clock: clock.now }), { config, databaseName }).catch((e) => {
    removeTestDir(config.dataDir);
    throw e;
  });
  await seedDemo(server.database.dataSource);
  const query = <T>(q: string, variables: Record<string, unknown> = {}, token?: string) => gql<T>(server.graphqlUrl, q, variables, token);
  const challenge = async () => (await query<any>('{ smartCardChallenge { challenge } }')).data.smartCardChallenge.challenge as string;
  return {
    server,
    config,
    databaseName,
    clock,
    query,
    challenge,
    async signInWithCard(card, o = {}) {
      const ch = o.challenge ?? (await challenge());
      const certificate = [card, ...(o.chain ?? [])].map(certificatePem).join('');
      return query(SIGN_IN_WITH_SMART_CARD, { certificate, challenge: ch, signature: o.signed ?? signChallenge((o.signWith ?? card).keys, ch) });
    },
    async signIn(username, password) {
      const res = await query<any>(SIGN_IN_WITH_DS_LOGON, { username, password });
      if (!res.data?.signInWithDsLogon) throw new Error(`sign-in failed: ${JSON.stringify(res.errors)}`);
      return res.data.signInWithDsLogon.accessToken;
    },
    async stop() {
      try {
        await server.close();
        if (!options.databaseName) await server.database.destroyAndDrop();
        if (config.redisUrl) await dropRedisKeys(config.redisUrl, config.redisKeyPrefix!);
      } finally {
        removeTestDir(config.dataDir);
      }
    },
  };
}

/** Deletes a test run's keys, found by its unique prefix. */
export async function dropRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = openRedis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await closeRedis(redis);
  }
}

export const SIGN_IN_WITH_SMART_CARD = `mutation($certificate: String!, $challenge: String!, $signature: String!) {
  signInWithSmartCard(input: { certificate: $certificate, challenge: $challenge, signature: $signature }) { accessToken expiresAt account { id status } }
}`;
export const SIGN_IN_WITH_DS_LOGON = `mutation($username: String!, $password: String!) {
  signInWithDsLogon(input: { username: $username, password: $password }) { accessToken expiresAt account { id username status } }
}`;
export const ME = `{ me { account { id username status signInMethods } session { method expiresAt } patient { id } practitioner { id } } }`;

/** The first error's code, or 'OK'. */
export const codeOf = (res: GraphQLResponse) => (res.errors?.length ? String(res.errors[0].extensions?.code) : 'OK');

// For the end-to-end tests: the test PKI's building blocks and the password hash.
export { certificatePem, issueCard, privateKeyPem, type Issued } from './smartcard/pki';
export { x509 } from './smartcard/x509';
export { hashPassword } from './services/passwords';
