import fs from 'node:fs';
import { loadSigningKey, signAccessToken, type Role, type SignInMethod, type SigningKey } from '@portal/kit';
import { DEMO } from '@portal/demo';
import { gql } from '@portal/kit/testing';
import { openSession } from './services/sessions';
import { startIdentity, type TestIdentity } from './testing';

// The questions other subgraphs ask identity, asked the way they ask them: over HTTP, with the viewer's token.
// Demo care teams: Blue holds Jane, John and Alex; Green holds Jane and Riley; Morgan and Sam are on none.
describe('identity’s internal routes', () => {
  let identity: TestIdentity;
  let key: SigningKey;
  beforeAll(async () => {
    identity = await startIdentity();
    // Identity's own development key, so tokens minted here are identity's tokens.
    key = await loadSigningKey({ dataDir: identity.config.dataDir, production: false });
  });
  afterAll(async () => {
    await identity?.stop();
  });

  /** A token for `accountId` with a live session, as sign-in would issue. */
  async function tokenFor(accountId: string, personId: string, role: Role, method: SignInMethod = 'CAC'): Promise<{ token: string; sessionId: string }> {
    const { id } = await openSession(identity.config, identity.server.database.dataSource, accountId, method);
    const { token } = await signAccessToken(key, { accountId, personId, role, method, sessionId: id });
    return { token, sessionId: id };
  }
  const post = (route: string, token: string | null, body: string = '{}') =>
    fetch(`${identity.server.url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });
  const careAccess = async (token: string | null, patientIds: unknown, raw?: string) => {
    const res = await post('/internal/care-access', token, raw ?? JSON.stringify({ patientIds }));
    const body = (await res.json()) as { allowed?: string[]; error?: string };
    return { status: res.status, body: body.allowed ? { allowed: [...body.allowed].sort() } : body };
  };

  describe('POST /internal/care-access', () => {
    const asked = [DEMO.jane, DEMO.john, 'pt-unknown'];

    it('names the patients a practitioner shares a care team with', async () => {
      const alex = await tokenFor('ac-alex-kim', DEMO.alex, 'PRACTITIONER');
      expect(await careAccess(alex.token, asked)).toEqual({ status: 200, body: { allowed: [DEMO.jane, DEMO.john].sort() } });
      const riley = await tokenFor('ac-riley-chen', DEMO.riley, 'PRACTITIONER');
      expect(await careAccess(riley.token, asked)).toEqual({ status: 200, body: { allowed: [DEMO.jane] } });
    });

    it('names no one for a practitioner on none of the patients’ teams', async () => {
      const morgan = await tokenFor('ac-morgan-diaz', DEMO.morgan, 'PRACTITIONER');
      expect(await careAccess(morgan.token, asked)).toEqual({ status: 200, body: { allowed: [] } });
    });

    it('names no one for anyone but a practitioner, even a patient on the same team', async () => {
      const jane = await tokenFor('ac-jane-doe', DEMO.jane, 'PATIENT', 'DS_LOGON');
      expect(await careAccess(jane.token, asked)).toEqual({ status: 200, body: { allowed: [] } });
      const sam = await tokenFor('ac-sam-lee', DEMO.sam, 'PHARMACIST');
      expect(await careAccess(sam.token, asked)).toEqual({ status: 200, body: { allowed: [] } });
      // A token for Alex's person but a pharmacist's role is a pharmacist.
      const notAlex = await tokenFor('ac-alex-kim', DEMO.alex, 'PHARMACIST');
      expect(await careAccess(notAlex.token, asked)).toEqual({ status: 200, body: { allowed: [] } });
    });

    it('answers 401 without a valid token', async () => {
      expect(await careAccess(null, asked)).toEqual({ status: 401, body: { error: 'unauthenticated' } });
      expect(await careAccess('not.a.token', asked)).toEqual({ status: 401, body: { error: 'unauthenticated' } });
    });

    it('takes only string ids, at most 1000 of them, and answers 400 to a body that is not JSON', async () => {
      const alex = await tokenFor('ac-alex-kim', DEMO.alex, 'PRACTITIONER');
      expect(await careAccess(alex.token, [DEMO.jane, 5, null, { id: DEMO.john }])).toEqual({ status: 200, body: { allowed: [DEMO.jane] } });
      expect(await careAccess(alex.token, DEMO.jane)).toEqual({ status: 200, body: { allowed: [] } });
      expect(await careAccess(alex.token, undefined, '{}')).toEqual({ status: 200, body: { allowed: [] } });
      const filler = Array.from({ length: 999 }, (_, i) => `pt-filler-${i}`);
      expect(await careAccess(alex.token, [...filler, DEMO.jane])).toEqual({ status: 200, body: { allowed: [DEMO.jane] } });
      expect(await careAccess(alex.token, [...filler, 'pt-filler-x', DEMO.jane])).toEqual({ status: 200, body: { allowed: [] } });
      expect(await careAccess(alex.token, undefined, '{"patientIds": [')).toEqual({ status: 400, body: { error: 'bad request' } });
    });
  });

  describe('POST /internal/sessions/check', () => {
    const check = async (token: string | null) => {
      const res = await post('/internal/sessions/check', token);
      return { status: res.status, body: (await res.json()) as { active: boolean; expiresAt?: string }, cache: res.headers.get('cache-control'), pragma: res.headers.get('pragma') };
    };

    it('says a live session is active and until when, never to be cached', async () => {
      const jane = await tokenFor('ac-jane-doe', DEMO.jane, 'PATIENT', 'DS_LOGON');
      const before = identity.clock.now().getTime();
      const res = await check(jane.token);
      expect(res).toEqual({ status: 200, body: { active: true, expiresAt: expect.any(String) }, cache: 'no-store', pragma: 'no-cache' });
      expect(Date.parse(res.body.expiresAt!)).toBeGreaterThanOrEqual(before + 15 * 60_000);
    });

    it('says an ended session is not active', async () => {
      const jane = await tokenFor('ac-jane-doe', DEMO.jane, 'PATIENT', 'DS_LOGON');
      expect((await identity.query('mutation { signOut }', {}, jane.token)).data).toEqual({ signOut: true });
      expect(await check(jane.token)).toEqual({ status: 200, body: { active: false }, cache: 'no-store', pragma: 'no-cache' });
    });

    it('answers 401 without a valid token, and to a service token, which has no session', async () => {
      expect(await check(null)).toMatchObject({ status: 401, body: { active: false } });
      expect(await check('not.a.token')).toMatchObject({ status: 401, body: { active: false } });
      const { token } = await signAccessToken(key, { accountId: 'svc-1', personId: 'svc-1', role: 'SERVICE', method: 'SERVICE', sessionId: 'svc-1', scopes: ['identity:read'] });
      expect(await check(token)).toMatchObject({ status: 401, body: { active: false } });
    });
  });

  describe('identity’s own care access (its GraphQL)', () => {
    const PATIENT = `query($id: ID!) { _entities(representations: [{ __typename: "Patient", id: $id }]) { ... on Patient { id name { family } } } }`;

    it('shows a practitioner only the patients of their care teams', async () => {
      const riley = await tokenFor('ac-riley-chen', DEMO.riley, 'PRACTITIONER');
      const jane = await gql(identity.server.graphqlUrl, PATIENT, { id: DEMO.jane }, riley.token);
      expect(jane.data?._entities).toEqual([{ id: DEMO.jane, name: { family: 'Doe' } }]);
      const john = await gql(identity.server.graphqlUrl, PATIENT, { id: DEMO.john }, riley.token);
      // Refused as an unknown id would be: null, with nothing of the patient.
      expect(john.data?._entities).toEqual([null]);
      expect(JSON.stringify(john.data ?? null)).not.toContain('Roe');
      const morgan = await tokenFor('ac-morgan-diaz', DEMO.morgan, 'PRACTITIONER');
      const none = await gql(identity.server.graphqlUrl, PATIENT, { id: DEMO.jane }, morgan.token);
      expect(none.data?._entities).toEqual([null]);
      expect(JSON.stringify(none)).not.toContain('Doe');
    });
  });
});

describe('identity’s session check when sessions cannot be checked', () => {
  let identity: TestIdentity;
  beforeAll(async () => {
    // The client reports the missing Redis once; expected here.
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    // Redis configured but not there: every check fails for want of it.
    identity = await startIdentity({ config: { redisUrl: 'redis://127.0.0.1:1', redisKeyPrefix: 'portal-test-none:' } });
  });
  afterAll(async () => {
    // Not identity.stop(): it would clear keys in the Redis that is not there.
    try {
      await identity?.server.close();
      await identity?.server.database.destroyAndDrop();
    } finally {
      if (identity) fs.rmSync(identity.config.dataDir, { recursive: true, force: true });
      jest.restoreAllMocks();
    }
  });

  it('answers 503, not "inactive"', async () => {
    const key = await loadSigningKey({ dataDir: identity.config.dataDir, production: false });
    const { token } = await signAccessToken(key, { accountId: 'ac-jane-doe', personId: DEMO.jane, role: 'PATIENT', method: 'DS_LOGON', sessionId: 's-any' });
    const res = await fetch(`${identity.server.url}/internal/sessions/check`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: 'unavailable' });
  });
});
