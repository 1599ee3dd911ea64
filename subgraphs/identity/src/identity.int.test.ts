import { startSubgraph, type RunningSubgraph } from '@portal/kit';
import { gql, removeTestDir, testConfig, uniqueDatabaseName } from '@portal/kit/testing';
import { createIdentityModule } from './module';
import { seedDemo } from './seed';

const SIGN_IN = `mutation($username: String!, $password: String!) {
  signInWithDsLogon(input: { username: $username, password: $password }) { accessToken expiresAt account { id username status } }
}`;
const ME = `{ me { account { id username status signInMethods } session { method expiresAt }
  patient { id dodId name { given family } dateOfBirth affiliations { organization status startDate endDate } careTeams { id name } } } }`;

let server: RunningSubgraph;
const config = testConfig();

beforeAll(async () => {
  server = await startSubgraph(createIdentityModule(), { config, databaseName: uniqueDatabaseName('identity') });
  await seedDemo(server.database.dataSource);
});
afterAll(async () => {
  try {
    await server?.close();
    await server?.database.destroyAndDrop();
  } finally {
    // It holds the signing key identity generated.
    removeTestDir(config.dataDir);
  }
});

const signIn = (username: string, password: string) => gql(server.graphqlUrl, SIGN_IN, { username, password });

describe('DS Logon sign-in', () => {
  it('signs Jane in and her token shows her own record', async () => {
    const t0 = Date.now();
    const res = await signIn('jane.doe', 'Demo-Password-1');
    const t1 = Date.now();
    expect(res.errors).toBeUndefined();
    const { accessToken, expiresAt, account } = res.data.signInWithDsLogon;
    expect(account).toEqual({ id: 'ac-jane-doe', username: 'jane.doe', status: 'ACTIVE' });
    // Fifteen minutes from the sign-in, which happened between t0 and t1 (the token counts whole seconds).
    expect(Date.parse(expiresAt)).toBeGreaterThanOrEqual(t0 - 1_000 + 15 * 60_000);
    expect(Date.parse(expiresAt)).toBeLessThanOrEqual(t1 + 15 * 60_000);

    const me = await gql(server.graphqlUrl, ME, {}, accessToken);
    expect(me.errors).toBeUndefined();
    expect(me.data.me.session.method).toBe('DS_LOGON');
    expect(me.data.me.account.signInMethods).toEqual(['DS_LOGON', 'CAC']);
    expect(me.data.me.patient).toEqual({
      id: 'pt-1000000001',
      dodId: '1000000001',
      name: { given: 'Jane', family: 'Doe' },
      dateOfBirth: '1990-04-12',
      affiliations: [{ organization: 'DOD', status: 'ACTIVE_DUTY', startDate: '2012-06-01', endDate: null }],
      careTeams: [
        { id: 'ct-behavioral-green', name: 'Behavioral Health Team Green' },
        { id: 'ct-primary-blue', name: 'Primary Care Team Blue' },
      ],
    });
  });

  it('lists John Roe’s affiliations oldest first', async () => {
    const { data } = await signIn('john.roe', 'Demo-Password-2');
    const me = await gql(server.graphqlUrl, ME, {}, data.signInWithDsLogon.accessToken);
    expect(me.data.me.patient.affiliations).toEqual([
      { organization: 'DOD', status: 'ACTIVE_DUTY', startDate: '2004-06-01', endDate: '2012-05-31' },
      { organization: 'VA', status: 'VETERAN', startDate: '2012-06-01', endDate: null },
    ]);
  });

  it('answers a wrong password and an unknown username alike', async () => {
    const wrong = await signIn('john.roe', 'not-the-password');
    const unknown = await signIn('nobody.here', 'not-the-password');
    expect(wrong.errors?.[0].extensions?.code).toBe('INVALID_CREDENTIALS');
    expect(unknown.errors?.[0].extensions?.code).toBe('INVALID_CREDENTIALS');
    expect(wrong.errors?.[0].message).toBe(unknown.errors?.[0].message);
    expect(wrong.data).toBeNull();
  });

  it('locks an account after five wrong passwords in a row, even for the right password', async () => {
    const { dataSource } = server.database;
    await dataSource.query(`INSERT INTO person (id, kind, dod_id, given_name, family_name, date_of_birth) VALUES ('pt-lock', 'PATIENT', '1000000099', 'Lo', 'Ck', '1999-01-01')`);
    const { hashPassword } = await import('./services/passwords');
    const hash = await hashPassword('Right-Password-9');
    await dataSource.getRepository('Account').insert({ id: 'ac-lock', personId: 'pt-lock', username: 'lock.me', passwordHash: hash, role: 'PATIENT', status: 'ACTIVE', createdAt: new Date().toISOString(), deactivatedAt: null });
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) codes.push(String((await signIn('lock.me', 'Wrong-Password')).errors?.[0].extensions?.code));
    expect(codes).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'ACCOUNT_LOCKED']);
    const right = await signIn('lock.me', 'Right-Password-9');
    expect(right.errors?.[0].extensions?.code).toBe('ACCOUNT_LOCKED');
    // An unknown username locks the same way, so the lock-out does not reveal which usernames exist.
    const unknown: string[] = [];
    for (let i = 0; i < 6; i++) unknown.push(String((await signIn('ghost.user', 'Wrong-Password')).errors?.[0].extensions?.code));
    expect(unknown.slice(4)).toEqual(['ACCOUNT_LOCKED', 'ACCOUNT_LOCKED']);
  });

  it('tells only the holder of the right password that an account is deactivated', async () => {
    const { dataSource } = server.database;
    await dataSource.query(`INSERT INTO person (id, kind, dod_id, given_name, family_name, date_of_birth) VALUES ('pt-deact', 'PATIENT', '1000000098', 'De', 'Act', '1999-01-01')`);
    const { hashPassword } = await import('./services/passwords');
    await dataSource.getRepository('Account').insert({ id: 'ac-deact', personId: 'pt-deact', username: 'gone.away', passwordHash: await hashPassword('Right-Password-8'), role: 'PATIENT', status: 'DEACTIVATED', createdAt: new Date().toISOString(), deactivatedAt: new Date().toISOString() });
    expect((await signIn('gone.away', 'Wrong-Password')).errors?.[0].extensions?.code).toBe('INVALID_CREDENTIALS');
    expect((await signIn('gone.away', 'Right-Password-8')).errors?.[0].extensions?.code).toBe('ACCOUNT_DEACTIVATED');
  });

  it('refuses empty input with BAD_USER_INPUT', async () => {
    const res = await signIn('', 'x');
    expect(res.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'username' });
  });
});

describe('tokens', () => {
  it('gives a null me without a token', async () => {
    const res = await gql(server.graphqlUrl, '{ me { account { id } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ me: null });
  });

  it('refuses a tampered token with UNAUTHENTICATED', async () => {
    const { data } = await signIn('jane.doe', 'Demo-Password-1');
    const [h, p, s] = data.signInWithDsLogon.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    claims.pid = 'pt-1000000002';
    const forged = [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), s].join('.');
    const res = await gql(server.graphqlUrl, ME, {}, forged);
    expect(res.status).toBe(401);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.data).toBeUndefined();
  });

  it('publishes the public key as a JWKS without the private part', async () => {
    const res = await fetch(`${server.url}/.well-known/jwks.json`);
    const jwks = (await res.json()) as { keys: Record<string, string>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwks.keys[0].d).toBeUndefined();
  });

  it('writes an audit event for a read of demographics, with no health data in it', async () => {
    const { data } = await signIn('john.roe', 'Demo-Password-2');
    await gql(server.graphqlUrl, ME, {}, data.signInWithDsLogon.accessToken, { 'x-request-id': 'req-audit-1' });
    const rows = await server.database.dataSource.query(`SELECT * FROM audit_event WHERE request_id = 'req-audit-1' ORDER BY record_kind`);
    expect(rows.map((r: any) => [r.patient_id, r.record_kind, r.action, r.outcome, r.actor_role])).toEqual([
      ['pt-1000000002', 'care_team', 'read', 'ALLOWED', 'PATIENT'],
      ['pt-1000000002', 'demographics', 'read', 'ALLOWED', 'PATIENT'],
    ]);
    await expect(server.database.dataSource.query(`DELETE FROM audit_event`)).rejects.toThrow(/append-only/);
  });
});
