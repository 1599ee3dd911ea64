import fs from 'node:fs';
import { sql, startSubgraph, type PortalConfig, type RunningSubgraph } from '@portal/kit';
import { DEMO } from '@portal/demo';
import { closeRedis, openRedis } from '@portal/kit';
import { gql, removeTestDir, skipWithoutRedis, testConfig, uniqueDatabaseName } from '@portal/kit/testing';
import { createIdentityModule } from './module';
import { probeModule } from './probe';
import { devCardFiles, ensureDevPki } from './smartcard/devPki';
import { signChallenge } from './smartcard/pki';
import { codeOf, ME, SIGN_IN_WITH_DS_LOGON, SIGN_IN_WITH_SMART_CARD, startIdentity, type TestIdentity } from './testing';

const SESSION_ONLY = '{ me { session { method expiresAt } } }';
/** Alex Kim (practitioner, Jane's care team) signs in with the development PKI's card. */
async function signInAsAlex(identity: TestIdentity): Promise<string> {
  await ensureDevPki(identity.config.dataDir);
  const challenge = await identity.challenge();
  const files = devCardFiles(identity.config.dataDir, 'alex');
  const res = await identity.query(SIGN_IN_WITH_SMART_CARD, {
    certificate: fs.readFileSync(files.certificate, 'utf8'),
    challenge,
    signature: signChallenge(fs.readFileSync(files.privateKey, 'utf8'), challenge),
  });
  if (!res.data?.signInWithSmartCard) throw new Error(`card sign-in failed: ${JSON.stringify(res.errors)}`);
  return res.data.signInWithSmartCard.accessToken;
}
const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

describe.each([
  ['in the identity database', false],
  ['in Redis', true],
])('sessions %s', (_, redis) => {
  if (redis && skipWithoutRedis('identity sessions in Redis (sessions.int.test.ts)')) return;
  let identity: TestIdentity;
  let probe: RunningSubgraph;
  const whoami = (token: string) => gql(probe.graphqlUrl, '{ whoami }', {}, token);

  let probeConfig: PortalConfig | undefined;

  beforeAll(async () => {
    identity = await startIdentity({ redis });
    probeConfig = testConfig({ identityUrl: identity.server.url, redisUrl: identity.config.redisUrl, redisKeyPrefix: identity.config.redisKeyPrefix });
    probe = await startSubgraph(probeModule(), { config: probeConfig, databaseName: uniqueDatabaseName('probe') });
  });
  afterAll(async () => {
    try {
      await probe?.close();
      await probe?.database.destroyAndDrop();
    } finally {
      removeTestDir(probeConfig?.dataDir);
      await identity?.stop();
    }
  });

  it('names its session in the token, which lives 8 hours while the session ends after 15 idle minutes', async () => {
    const res = await identity.query(SIGN_IN_WITH_DS_LOGON, { username: 'jane.doe', password: 'Demo-Password-1' });
    const { accessToken, expiresAt } = res.data.signInWithDsLogon;
    const c = claims(accessToken);
    expect(typeof c.sid).toBe('string');
    expect(Number(c.exp) - Number(c.iat)).toBe(8 * 3600);
    expect(Date.parse(expiresAt) - identity.clock.now().getTime()).toBeGreaterThan(14.9 * 60_000);
    const me = await identity.query(SESSION_ONLY, {}, accessToken);
    expect(me.data.me.session.method).toBe('DS_LOGON');
    const left = Date.parse(me.data.me.session.expiresAt) - identity.clock.now().getTime();
    expect(left).toBeGreaterThan(14.9 * 60_000);
    expect(left).toBeLessThanOrEqual(15 * 60_000);
    expect((await whoami(accessToken)).data).toEqual({ whoami: 'ac-jane-doe' });
  });

  it('signOut ends the session: identity refuses the token at once, and so does another subgraph', async () => {
    const token = await identity.signIn('jane.doe', 'Demo-Password-1');
    expect((await whoami(token)).data).toEqual({ whoami: 'ac-jane-doe' });
    const out = await identity.query('mutation { signOut }', {}, token);
    expect(out.data).toEqual({ signOut: true });
    const me = await identity.query(ME, {}, token);
    expect(me.status).toBe(401);
    expect(me.errors?.[0]).toMatchObject({ message: 'Your session has ended; sign in again.', extensions: { code: 'UNAUTHENTICATED' } });
    expect(me.data).toBeUndefined();
    // Without Redis another subgraph may trust identity's last "live" answer for at most 5 s.
    // With Redis the very next request is refused; without, polls until the 5 s trust
    // lapses (bounded by 10 s so a loaded CI machine does not make it flaky).
    const started = Date.now();
    let refused = await whoami(token);
    while (!redis && refused.status !== 401 && Date.now() - started < 10_000) {
      await new Promise((r) => setTimeout(r, 250));
      refused = await whoami(token);
    }
    expect(refused.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('POST /internal/care-access answers a live session and refuses an ended one', async () => {
    const token = await signInAsAlex(identity);
    const careAccess = () =>
      fetch(`${identity.server.url}/internal/care-access`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ patientIds: [DEMO.jane, 'pt-nobody'] }),
      });
    const live = await careAccess();
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ allowed: [DEMO.jane] });
    await identity.query('mutation { signOut }', {}, token);
    const ended = await careAccess();
    expect(ended.status).toBe(401);
    expect(await ended.json()).toEqual({ error: 'session ended' });
  });

  it('leaves the account’s other sessions alone at sign-out', async () => {
    const a = await identity.signIn('john.roe', 'Demo-Password-2');
    const b = await identity.signIn('john.roe', 'Demo-Password-2');
    await identity.query('mutation { signOut }', {}, a);
    expect(codeOf(await identity.query(ME, {}, b))).toBe('OK');
  });

  it('signOut without a token is UNAUTHENTICATED', async () => {
    expect(codeOf(await identity.query('mutation { signOut }'))).toBe('UNAUTHENTICATED');
  });

  it('is checked by a second identity instance on the same data: a sign-out at one is refused at the other within seconds', async () => {
    const second = await startSubgraph(createIdentityModule(), { config: identity.config, databaseName: identity.databaseName });
    try {
      const token = await identity.signIn('jane.doe', 'Demo-Password-1');
      expect(codeOf(await identity.query(ME, {}, token))).toBe('OK');
      expect(codeOf(await gql(second.graphqlUrl, ME, {}, token))).toBe('OK');
      await gql(second.graphqlUrl, 'mutation { signOut }', {}, token);
      expect(codeOf(await gql(second.graphqlUrl, ME, {}, token))).toBe('UNAUTHENTICATED');
      const started = Date.now();
      while (!redis && codeOf(await identity.query(ME, {}, token)) === 'OK' && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 250));
      expect(codeOf(await identity.query(ME, {}, token))).toBe('UNAUTHENTICATED');
    } finally {
      await second.close();
    }
  });

  if (!redis) {
    it('ends after 15 minutes without a request, and each request pushes the end on', async () => {
      const token = await identity.signIn('jane.doe', 'Demo-Password-1');
      const minutes = (m: number) => identity.clock.advance(m * 60_000);
      minutes(14);
      expect(codeOf(await identity.query(SESSION_ONLY, {}, token))).toBe('OK');
      minutes(14);
      expect(codeOf(await identity.query(SESSION_ONLY, {}, token))).toBe('OK');
      minutes(15);
      const res = await identity.query(SESSION_ONLY, {}, token);
      expect(res.errors?.[0]).toMatchObject({ message: 'Your session has ended; sign in again.', extensions: { code: 'UNAUTHENTICATED' } });
      // Another subgraph, asking identity, gets the same answer.
      expect((await whoami(token)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      // The end is recorded as the moment the idle limit ran out.
      const [row] = await sql<{ ended_at: string; last_seen_at: string }>(identity.server.database.dataSource, 'SELECT ended_at, last_seen_at FROM session WHERE id = $1', [claims(token).sid]);
      expect(Date.parse(row.ended_at) - Date.parse(row.last_seen_at)).toBe(15 * 60_000);
    });

    it('writes activity at most every 30 s per session, not on every request', async () => {
      const token = await identity.signIn('jane.doe', 'Demo-Password-1');
      const statementsFor = async () => {
        identity.server.database.counter.count = 0;
        expect(codeOf(await identity.query(SESSION_ONLY, {}, token))).toBe('OK');
        return identity.server.database.counter.count;
      };
      const counts = [await statementsFor(), await statementsFor(), await statementsFor()];
      identity.clock.advance(31_000);
      counts.push(await statementsFor(), await statementsFor());
      // A read when this instance's 5-second trust has lapsed; a write on its first sight of the session, then every 30 s.
      expect(counts).toEqual([2, 0, 0, 2, 0]);
    });
  } else {
    it('keeps one key per session whose TTL is the idle limit, refreshed by each request, and nothing in SQL', async () => {
      const token = await identity.signIn('jane.doe', 'Demo-Password-1');
      const key = `${identity.config.redisKeyPrefix}session:${claims(token).sid}`;
      const client = openRedis(identity.config.redisUrl!);
      try {
        await client.expire(key, 100);
        identity.server.database.counter.count = 0;
        expect(codeOf(await identity.query(SESSION_ONLY, {}, token))).toBe('OK');
        expect(identity.server.database.counter.count).toBe(0);
        expect(await client.ttl(key)).toBeGreaterThan(890);
        // Fifteen idle minutes, as Redis sees them: the key expires.
        await client.pexpire(key, 20);
        await new Promise((r) => setTimeout(r, 60));
        expect(codeOf(await identity.query(SESSION_ONLY, {}, token))).toBe('UNAUTHENTICATED');
        expect((await whoami(token)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      } finally {
        await closeRedis(client);
      }
    });
  }
});
