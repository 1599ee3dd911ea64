/**
 * Identity (or Redis) down is an outage, not a sign-out: a subgraph that cannot check a
 * token (no keys, no session answer, no care-access answer) says
 * SERVICE_UNAVAILABLE with HTTP 503, within IDENTITY_TIMEOUT_MS, and never
 * UNAUTHENTICATED for a valid token.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { parse } from 'graphql';
import { closeRedis, openRedis } from './auth/redis';
import { RedisSessions } from './auth/sessions';
import { signAccessToken, type SigningKey } from './auth/tokens';
import { startSubgraph, type RunningSubgraph, type SubgraphContext, type SubgraphModule } from './subgraph';
import { gql, mintToken, removeTestDir, skipWithoutRedis, startFaultProxy, testConfig, testRedisUrl, testSigningKey, uniqueDatabaseName, uniqueRedisKeyPrefix } from './testing';
import { anyOf, careTeam, definePolicy, patientSelf, serviceScope } from './policy';

/** The test subgraph's declared policy: an appointment of the patient, as scheduling's is. */
const testPolicy = definePolicy({
  healthTypes: [],
  otherTypes: {},
  openFields: {},
  entries: { 'Query.visible': { allow: anyOf(patientSelf, careTeam, serviceScope('scheduling:read')), audit: { kind: 'appointment', action: 'read' } } },
});

type Mode = 'up' | 'failing' | 'hung';

/** Identity as the subgraphs see it: its JWKS, the session check and care access, each of which can fail or hang. */
async function fakeIdentity(key: SigningKey) {
  let mode: Mode = 'up';
  const server = http.createServer((req, res) => {
    req.resume();
    const json = (body: unknown) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (mode === 'hung') return;
    if (mode === 'failing') res.writeHead(500).end('down');
    else if (req.url === '/.well-known/jwks.json') json({ keys: [key.publicJwk] });
    else if (req.url === '/internal/sessions/check') json({ active: true, expiresAt: new Date(Date.now() + 900_000).toISOString() });
    else if (req.url === '/internal/care-access') json({ allowed: [], careTeamIds: [] });
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    set: (next: Mode) => (mode = next),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const outageModule: SubgraphModule<SubgraphContext> = {
  name: 'outage',
  typeDefs: parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
    type Query { visible(patientId: ID!): Boolean }
  `),
  resolvers: { Query: { visible: (_: unknown, { patientId }: { patientId: string }, ctx: SubgraphContext) => testPolicy.check('Query.visible', ctx.access, patientId) } },
  entities: [],
  migrations: [],
  createContext: (base) => base,
};

describe('a subgraph while identity is down', () => {
  let key: SigningKey;
  let identity: Awaited<ReturnType<typeof fakeIdentity>>;
  let subgraph: RunningSubgraph;
  let dataDir: string;
  beforeAll(async () => {
    key = await testSigningKey();
    identity = await fakeIdentity(key);
    const config = testConfig({ identityUrl: identity.url, identityTimeoutMs: 300 });
    dataDir = config.dataDir;
    subgraph = await startSubgraph(outageModule, { config, databaseName: uniqueDatabaseName('outage'), pharmacyAccess: async () => new Set() });
  });
  afterAll(async () => {
    try {
      await subgraph?.close();
      await subgraph?.database.destroyAndDrop();
      await identity?.close();
    } finally {
      removeTestDir(dataDir);
    }
  });
  beforeEach(() => identity.set('up'));

  const ask = (token: string) => gql(subgraph.graphqlUrl, 'query ($id: ID!) { visible(patientId: $id) }', { id: 'pt-1' }, token);
  const UNAVAILABLE = (message: string) => ({ status: 503, errors: [{ message, extensions: { code: 'SERVICE_UNAVAILABLE' } }] });

  it('answers 503 for a token it has no keys for yet, then serves once identity answers', async () => {
    const token = await mintToken(key, { personId: 'pt-1' });
    for (const mode of ['failing', 'hung'] as const) {
      identity.set(mode);
      expect(await ask(token)).toEqual(UNAVAILABLE('Sign-in could not be checked right now. Try again shortly.'));
    }
    identity.set('up');
    // The subgraph waits a few seconds after a failed fetch before asking again.
    let res = await ask(token);
    for (let i = 0; i < 40 && res.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      res = await ask(token);
    }
    expect(res).toEqual({ status: 200, data: { visible: true } });
  });

  it('answers 503, not "sign in again", when the session cannot be checked (identity failing or hung)', async () => {
    expect((await ask(await mintToken(key, { personId: 'pt-1' }))).status).toBe(200);
    for (const mode of ['failing', 'hung'] as const) {
      identity.set(mode);
      // A session not seen before: its check goes to identity.
      expect(await ask(await mintToken(key, { personId: 'pt-1' }))).toEqual(UNAVAILABLE('Your sign-in could not be checked right now. Try again shortly.'));
    }
  });

  it('answers SERVICE_UNAVAILABLE for a field whose care access cannot be asked, not FORBIDDEN', async () => {
    const token = await mintToken(key, { personId: `pr-${randomUUID()}`, role: 'PRACTITIONER' });
    expect(await ask(token)).toEqual({ status: 200, data: { visible: false } });
    identity.set('hung');
    const res = await ask(token);
    expect(res.data).toEqual({ visible: null });
    expect(res.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['visible'], 'SERVICE_UNAVAILABLE']]);
  });
});

describe('a subgraph while Redis, where sessions live, is unreachable', () => {
  if (skipWithoutRedis('a subgraph while Redis is unreachable (identityOutage.int.test.ts)')) return;
  it.each([
    ['cut off', 'cut'],
    ['hung', 'hang'],
  ] as const)('answers 503 without hanging while Redis is %s, and serves again by itself once it is back', async (_, fault) => {
    const redisUrl = new URL(testRedisUrl()!);
    const proxy = await startFaultProxy({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
    const key = await testSigningKey();
    const identity = await fakeIdentity(key);
    const prefix = uniqueRedisKeyPrefix();
    const direct = openRedis(redisUrl.toString());
    const config = testConfig({ identityUrl: identity.url, redisUrl: `redis://127.0.0.1:${proxy.port}`, redisKeyPrefix: prefix });
    let subgraph: RunningSubgraph | undefined;
    try {
      subgraph = await startSubgraph(outageModule, { config, databaseName: uniqueDatabaseName('outage'), pharmacyAccess: async () => new Set() });
      const sessionId = randomUUID();
      await new RedisSessions(direct, prefix).open(sessionId, { accountId: 'ac-pt-1', method: 'DS_LOGON' });
      const { token } = await signAccessToken(key, { accountId: 'ac-pt-1', personId: 'pt-1', role: 'PATIENT', method: 'DS_LOGON', sessionId });
      const ask = () => gql(subgraph!.graphqlUrl, 'query ($id: ID!) { visible(patientId: $id) }', { id: 'pt-1' }, token);
      expect(await ask()).toEqual({ status: 200, data: { visible: true } });
      proxy[fault]();
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        expect(await ask()).toEqual({ status: 503, errors: [{ message: 'Your sign-in could not be checked right now. Try again shortly.', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
        // Bounded by the Redis command timeout (1 s), with room for a loaded machine: never a hang.
        expect(Date.now() - started).toBeLessThan(15_000);
      }
      proxy.restore();
      let res = await ask();
      for (let i = 0; i < 60 && res.status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        res = await ask();
      }
      expect(res).toEqual({ status: 200, data: { visible: true } });
    } finally {
      proxy.restore();
      try {
        await subgraph?.close();
        await subgraph?.database.destroyAndDrop();
      } finally {
        const keys = await direct.keys(`${prefix}*`);
        if (keys.length) await direct.del(...keys);
        await closeRedis(direct);
        await identity.close();
        await proxy.close();
        removeTestDir(config.dataDir);
      }
    }
  });
});
