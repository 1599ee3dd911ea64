import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { sql, startSubgraph, type RunningSubgraph } from '@portal/kit';
import { DEMO } from '@portal/demo';
import { gql, mintToken, removeTestDir, testConfig, testSigningKey, testTempDir, uniqueDatabaseName } from '@portal/kit/testing';
import { createIdentityModule } from './module';
import { probeModule } from './probe';
import { seedDemo } from './seed';
import { createServiceClient } from './services/serviceClients';
import { codeOf, ME, SIGN_IN_WITH_DS_LOGON } from './testing';

const header = (token: string) => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid: string };
const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

function writeKey(dir: string, name: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return file;
}

describe('key rotation', () => {
  const dir = testTempDir('identity-keys-');
  const oldKey = writeKey(dir, 'old.pem');
  const newKey = writeKey(dir, 'new.pem');
  const config = testConfig();
  const databaseName = uniqueDatabaseName('identity');
  const started: RunningSubgraph[] = [];
  const start = async (overrides: object) => {
    const s = await startSubgraph(createIdentityModule(), { config: { ...config, ...overrides }, databaseName });
    started.push(s);
    return s;
  };
  afterAll(async () => {
    try {
      for (const s of started.reverse()) await s.close().catch(() => undefined);
      await started[0]?.database.destroyAndDrop();
    } finally {
      // Private keys: removed whatever happened above.
      removeTestDir(dir);
      removeTestDir(config.dataDir);
    }
  });

  it('publishes the old key beside the new one, signs new tokens with the new one, and another subgraph accepts both', async () => {
    const before = await start({ tokenSigningKeyFile: oldKey });
    await seedDemo(before.database.dataSource);
    const oldToken = (await gql(before.graphqlUrl, SIGN_IN_WITH_DS_LOGON, { username: 'jane.doe', password: 'Demo-Password-1' })).data.signInWithDsLogon.accessToken;
    const oldKid = header(oldToken).kid;
    await before.close();

    // The rotation: a restart with the new key, the old one kept for the tokens it signed.
    const after = await start({ tokenSigningKeyFile: newKey, tokenPreviousKeyFiles: [oldKey] });
    const jwks = (await (await fetch(`${after.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string; d?: string }[] };
    expect(jwks.keys).toHaveLength(2);
    expect(jwks.keys[1].kid).toBe(oldKid);
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
    const newToken = (await gql(after.graphqlUrl, SIGN_IN_WITH_DS_LOGON, { username: 'john.roe', password: 'Demo-Password-2' })).data.signInWithDsLogon.accessToken;
    expect(header(newToken).kid).toBe(jwks.keys[0].kid);
    expect(header(newToken).kid).not.toBe(oldKid);

    const probeConfig = testConfig({ identityUrl: after.url });
    const probe = await startSubgraph(probeModule(), { config: probeConfig, databaseName: uniqueDatabaseName('probe') }).catch((e) => {
      removeTestDir(probeConfig.dataDir);
      throw e;
    });
    try {
      expect((await gql(probe.graphqlUrl, '{ whoami }', {}, oldToken)).data).toEqual({ whoami: 'ac-jane-doe' });
      expect((await gql(probe.graphqlUrl, '{ whoami }', {}, newToken)).data).toEqual({ whoami: 'ac-john-roe' });
      expect(codeOf(await gql(after.graphqlUrl, ME, {}, oldToken))).toBe('OK');
      // A key identity never held verifies nothing.
      const forged = await mintToken(await testSigningKey(), { personId: DEMO.jane, accountId: 'ac-jane-doe' });
      const res = await gql(probe.graphqlUrl, '{ whoami }', {}, forged);
      expect(res.status).toBe(401);
      expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    } finally {
      await probe.close();
      await probe.database.destroyAndDrop();
      removeTestDir(probeConfig.dataDir);
    }
  });
});

describe('service credentials', () => {
  let identity: RunningSubgraph;
  let probe: RunningSubgraph;
  let secrets: Record<string, string>;
  const config = testConfig();
  const probeConfig = testConfig({ identityUrl: 'set below' });

  beforeAll(async () => {
    identity = await startSubgraph(createIdentityModule(), { config, databaseName: uniqueDatabaseName('identity') });
    await seedDemo(identity.database.dataSource);
    const db = identity.database.dataSource;
    secrets = {
      'records-bot': await createServiceClient(db, 'records-bot', ['identity:read']),
      'sched-bot': await createServiceClient(db, 'sched-bot', ['scheduling:read', 'scheduling:write']),
      'old-bot': await createServiceClient(db, 'old-bot', ['identity:read']),
    };
    await sql(db, `UPDATE service_client SET disabled_at = $1 WHERE client_id = 'old-bot'`, [new Date().toISOString()]);
    probe = await startSubgraph(probeModule(), { config: { ...probeConfig, identityUrl: identity.url }, databaseName: uniqueDatabaseName('probe') });
  });
  afterAll(async () => {
    try {
      await probe?.close();
      await probe?.database.destroyAndDrop();
      await identity?.close();
      await identity?.database.destroyAndDrop();
    } finally {
      removeTestDir(config.dataDir);
      removeTestDir(probeConfig.dataDir);
    }
  });

  const form = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${identity.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(params).toString() });
  const tokenOf = async (clientId: string, scope?: string) => {
    const res = await form({ grant_type: 'client_credentials', client_id: clientId, client_secret: secrets[clientId], ...(scope ? { scope } : {}) });
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const DEMOGRAPHICS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id dodId name { family } } } }`;

  it('stores only a hash of the secret', async () => {
    const [row] = await sql<{ secret_hash: string; scopes: string }>(identity.database.dataSource, `SELECT secret_hash, scopes FROM service_client WHERE client_id = 'sched-bot'`);
    expect(row.secret_hash).toMatch(/^sha256\$/);
    expect(row.secret_hash).not.toContain(secrets['sched-bot']);
    expect(row.scopes).toBe('scheduling:read scheduling:write');
  });

  it('exchanges a client id and secret (form, JSON or HTTP Basic) for a 5-minute SERVICE token with its scopes and no session', async () => {
    const viaForm = await form({ grant_type: 'client_credentials', client_id: 'sched-bot', client_secret: secrets['sched-bot'] });
    expect(viaForm.status).toBe(200);
    expect(viaForm.headers.get('cache-control')).toBe('no-store');
    const body = (await viaForm.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'scheduling:read scheduling:write' });
    const c = claims(String(body.access_token));
    expect(c).toMatchObject({ role: 'SERVICE', amr: 'SERVICE', sub: 'service:sched-bot', scope: 'scheduling:read scheduling:write' });
    expect(Number(c.exp) - Number(c.iat)).toBe(300);
    expect(await sql(identity.database.dataSource, 'SELECT id FROM session WHERE id = $1', [c.sid])).toEqual([]);

    const viaJson = await fetch(`${identity.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'records-bot', client_secret: secrets['records-bot'] }),
    });
    expect(viaJson.status).toBe(200);
    const basic = Buffer.from(`sched-bot:${secrets['sched-bot']}`).toString('base64');
    const viaBasic = await form({ grant_type: 'client_credentials', scope: 'scheduling:read' }, { authorization: `Basic ${basic}` });
    expect(((await viaBasic.json()) as { scope: string }).scope).toBe('scheduling:read');
  });

  it('refuses wrong credentials, other grants and scopes beyond the client’s, the OAuth way', async () => {
    const cases: [Record<string, string>, number, string][] = [
      [{ grant_type: 'client_credentials', client_id: 'sched-bot', client_secret: 'wrong' }, 401, 'invalid_client'],
      [{ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'wrong' }, 401, 'invalid_client'],
      [{ grant_type: 'client_credentials', client_id: 'old-bot', client_secret: secrets['old-bot'] }, 401, 'invalid_client'],
      [{ grant_type: 'password', client_id: 'sched-bot', client_secret: secrets['sched-bot'] }, 400, 'unsupported_grant_type'],
      [{ grant_type: 'client_credentials', client_id: 'sched-bot', client_secret: secrets['sched-bot'], scope: 'identity:read' }, 400, 'invalid_scope'],
    ];
    for (const [params, status, error] of cases) {
      const res = await form(params);
      expect([res.status, ((await res.json()) as { error: string }).error]).toEqual([status, error]);
    }
    const text = await fetch(`${identity.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    expect(text.status).toBe(400);
  });

  it('answers a service within its scopes only: demographics with identity:read, nothing of them with scheduling:read, nothing at all without a token', async () => {
    const r = { r: [{ __typename: 'Patient', id: DEMO.jane }] };
    const reader = await gql(identity.graphqlUrl, DEMOGRAPHICS, r, await tokenOf('records-bot'));
    expect(reader.errors).toBeUndefined();
    expect(reader.data._entities).toEqual([{ id: DEMO.jane, dodId: '1000000001', name: { family: 'Doe' } }]);

    const scheduler = await tokenOf('sched-bot');
    // The same answer as for an unknown patient id: null, no error (nothing tells which ids exist).
    const denied = await gql(identity.graphqlUrl, DEMOGRAPHICS, r, scheduler);
    expect(denied).toEqual(await gql(identity.graphqlUrl, DEMOGRAPHICS, { r: [{ __typename: 'Patient', id: 'pt-0000000000' }] }, scheduler));
    expect(denied.data._entities).toEqual([null]);
    expect(codeOf(await gql(identity.graphqlUrl, DEMOGRAPHICS, r))).toBe('UNAUTHENTICATED');

    // In another subgraph, the kit's Access maps record kinds to scopes the same way.
    expect((await gql(probe.graphqlUrl, '{ mayRead(patientId: "pt-1000000001", kind: "appointment") }', {}, scheduler)).data).toEqual({ mayRead: true });
    expect(codeOf(await gql(probe.graphqlUrl, '{ mayRead(patientId: "pt-1000000001", kind: "visit_note") }', {}, scheduler))).toBe('FORBIDDEN');
    const readOnly = await tokenOf('sched-bot', 'scheduling:read');
    expect(codeOf(await gql(probe.graphqlUrl, '{ mayRead(patientId: "pt-1000000001", kind: "appointment") }', {}, readOnly))).toBe('OK');

    // A service has no `me` and no session to end.
    expect((await gql(identity.graphqlUrl, ME, {}, scheduler)).data).toEqual({ me: null });
    expect((await gql(identity.graphqlUrl, 'mutation { signOut }', {}, scheduler)).data).toEqual({ signOut: false });
  });

  it('audits a service’s reads under its own name and role', async () => {
    await gql(identity.graphqlUrl, DEMOGRAPHICS, { r: [{ __typename: 'Patient', id: DEMO.john }] }, await tokenOf('records-bot'), { 'x-request-id': 'svc-audit-1' });
    const rows = await sql<{ actor_account_id: string; actor_role: string; outcome: string }>(
      identity.database.dataSource,
      `SELECT actor_account_id, actor_role, outcome FROM audit_event WHERE request_id = 'svc-audit-1'`,
    );
    expect(rows).toEqual([{ actor_account_id: 'service:records-bot', actor_role: 'SERVICE', outcome: 'ALLOWED' }]);
  });
});
