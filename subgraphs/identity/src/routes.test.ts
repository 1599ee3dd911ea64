import type { IncomingMessage } from 'node:http';
import { PortalError, TokenVerifier, signAccessToken, type Role, type SignInMethod, type SigningKey, type SubgraphRuntime, type Viewer } from '@portal/kit';
import { ErrorCode } from './errors';
import { DEMO } from '@portal/demo';
import { testSigningKey } from '@portal/kit/testing';
import type { IdentityDeps } from './context';
import { IdentityStore } from './db/store';
import { openTestIdentityDatabase, type TestIdentityDatabase } from './db/testDatabase';
import { createIdentityModule } from './module';
import { identityRoutes } from './routes';
import { SessionService } from './services/sessions';

// The handlers of identity's internal routes called directly (no server), on identity's real
// database and session service: the same rules routes.int.test.ts checks over HTTP, fast enough
// for mutation testing. Demo care teams: Blue holds Jane, John and Alex; Green holds Jane and
// Riley; Morgan and Sam are on none.
describe('identity’s internal route handlers', () => {
  let t: TestIdentityDatabase;
  let key: SigningKey;
  let sessions: SessionService;
  let now: number;
  const clock = () => new Date(now);

  beforeAll(async () => {
    t = await openTestIdentityDatabase();
    key = await testSigningKey();
  });
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(() => {
    now = Date.now();
    sessions = new SessionService(new IdentityStore(t.db.dataSource), null, clock);
  });

  const routesWith = (guard: Pick<SessionService, 'check'> = sessions) => {
    const runtime = {
      database: t.db,
      verifier: new TokenVerifier({ jwks: { keys: [key.publicJwk] } }),
      clientAddress: () => '127.0.0.1',
    } as unknown as SubgraphRuntime;
    return identityRoutes(runtime, { sessions: guard, clock, keys: { jwks: [key.publicJwk] } } as unknown as IdentityDeps);
  };
  const request = (token: string | null): IncomingMessage => ({ headers: token ? { authorization: `Bearer ${token}` } : {} }) as IncomingMessage;

  /** A token for `accountId` with a live session, as sign-in would issue. */
  async function tokenFor(accountId: string, personId: string, role: Role, method: SignInMethod = 'CAC'): Promise<string> {
    const { id } = await sessions.open(accountId, method);
    return (await signAccessToken(key, { accountId, personId, role, method, sessionId: id })).token;
  }
  const serviceToken = async () =>
    (await signAccessToken(key, { accountId: 'svc-1', personId: 'svc-1', role: 'SERVICE', method: 'SERVICE', sessionId: 'svc-1', scopes: ['identity:read'] })).token;

  it('GET /.well-known/jwks.json publishes the key ring’s public keys, cacheable for five minutes', async () => {
    expect(await routesWith()['GET /.well-known/jwks.json'](request(null), Buffer.alloc(0), 'req-0')).toEqual({
      status: 200,
      body: { keys: [key.publicJwk] },
      headers: { 'cache-control': 'public, max-age=300' },
    });
  });

  describe('POST /internal/care-access', () => {
    const asked = [DEMO.jane, DEMO.john, 'pt-unknown'];
    const careAccess = async (token: string | null, body: unknown, guard?: Pick<SessionService, 'check'>) => {
      const raw = typeof body === 'string' ? body : JSON.stringify(body);
      const res = await routesWith(guard)['POST /internal/care-access'](request(token), Buffer.from(raw, 'utf8'), 'req-1');
      const b = res.body as { allowed?: string[] };
      return { ...res, body: b.allowed ? { ...b, allowed: [...b.allowed].sort() } : b };
    };
    const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

    it('names the patients a practitioner shares a care team with, never to be cached', async () => {
      const alex = await tokenFor('ac-alex-kim', DEMO.alex, 'PRACTITIONER');
      expect(await careAccess(alex, { patientIds: asked })).toEqual({ status: 200, body: { allowed: [DEMO.jane, DEMO.john].sort() }, headers: NO_STORE });
      const riley = await tokenFor('ac-riley-chen', DEMO.riley, 'PRACTITIONER');
      expect(await careAccess(riley, { patientIds: asked })).toEqual({ status: 200, body: { allowed: [DEMO.jane] }, headers: NO_STORE });
      const morgan = await tokenFor('ac-morgan-diaz', DEMO.morgan, 'PRACTITIONER');
      expect(await careAccess(morgan, { patientIds: asked })).toEqual({ status: 200, body: { allowed: [] }, headers: NO_STORE });
    });

    it('names no one for anyone but a practitioner, even a patient on the same team or a service', async () => {
      const jane = await tokenFor('ac-jane-doe', DEMO.jane, 'PATIENT', 'DS_LOGON');
      expect((await careAccess(jane, { patientIds: asked })).body).toEqual({ allowed: [] });
      const sam = await tokenFor('ac-sam-lee', DEMO.sam, 'PHARMACIST');
      expect((await careAccess(sam, { patientIds: asked })).body).toEqual({ allowed: [] });
      const notAlex = await tokenFor('ac-alex-kim', DEMO.alex, 'PHARMACIST');
      expect((await careAccess(notAlex, { patientIds: asked })).body).toEqual({ allowed: [] });
      // A service token has no session to check: it is answered, with no one.
      expect(await careAccess(await serviceToken(), { patientIds: asked })).toEqual({ status: 200, body: { allowed: [] }, headers: NO_STORE });
    });

    it('answers what a patient may do as a proxy for each asked patient when asked: Jane for her children, no one else', async () => {
      const jane = await tokenFor('ac-jane-doe', DEMO.jane, 'PATIENT', 'DS_LOGON');
      const all = ['APPOINTMENTS', 'MESSAGES', 'MEDICATIONS', 'RESULTS', 'NOTES', 'HEALTH_SUMMARY'];
      expect(await careAccess(jane, { patientIds: [DEMO.emma, DEMO.liam, DEMO.jane, DEMO.john], proxy: true })).toEqual({
        status: 200,
        body: { allowed: [], proxy: { [DEMO.emma]: { scopes: all, hideSensitive: false }, [DEMO.liam]: { scopes: all, hideSensitive: true } } },
        headers: NO_STORE,
      });
      expect((await careAccess(jane, { patientIds: [DEMO.emma], proxy: 'yes' })).body).toEqual({ allowed: [] });
      const john = await tokenFor('ac-john-roe', DEMO.john, 'PATIENT', 'DS_LOGON');
      expect((await careAccess(john, { patientIds: [DEMO.emma, DEMO.jane], proxy: true })).body).toEqual({ allowed: [], proxy: {} });
      // A token of another role for a guardian's person is no one's proxy (as a practitioner it shares Team Blue with Emma), nor is a service.
      const notJane = await tokenFor('ac-jane-doe', DEMO.jane, 'PRACTITIONER');
      expect((await careAccess(notJane, { patientIds: [DEMO.emma], proxy: true })).body).toEqual({ allowed: [DEMO.emma], proxy: {} });
      expect((await careAccess(await serviceToken(), { patientIds: [DEMO.emma], proxy: true })).body).toEqual({ allowed: [], proxy: {} });
    });

    it('gives the viewer’s own care teams as they are now when asked, to practitioners and patients only', async () => {
      const alex = await tokenFor('ac-alex-kim', DEMO.alex, 'PRACTITIONER');
      expect((await careAccess(alex, { patientIds: [DEMO.john], careTeams: true })).body).toEqual({ allowed: [DEMO.john], careTeamIds: [DEMO.careTeamBlue] });
      const jane = await tokenFor('ac-jane-doe', DEMO.jane, 'PATIENT', 'DS_LOGON');
      expect((await careAccess(jane, { careTeams: true })).body).toEqual({ allowed: [], careTeamIds: [DEMO.careTeamGreen, DEMO.careTeamBlue].sort() });
      const riley = await tokenFor('ac-riley-chen', DEMO.riley, 'PRACTITIONER');
      expect((await careAccess(riley, { careTeams: true })).body).toEqual({ allowed: [], careTeamIds: [DEMO.careTeamGreen] });
      // Not a member by role: none, without asking.
      const notAlex = await tokenFor('ac-alex-kim', DEMO.alex, 'PHARMACIST');
      expect((await careAccess(notAlex, { careTeams: true })).body).toEqual({ allowed: [], careTeamIds: [] });
      expect((await careAccess(await serviceToken(), { careTeams: true })).body).toEqual({ allowed: [], careTeamIds: [] });
      // Only `true` asks; otherwise there is no careTeamIds at all.
      for (const careTeams of [undefined, false, 'true', 1]) {
        const res = await careAccess(alex, { patientIds: [DEMO.john], careTeams });
        expect(res.body).toEqual({ allowed: [DEMO.john] });
        expect((res.body as { careTeamIds?: unknown }).careTeamIds).toBeUndefined();
      }
    });

    it('takes only string ids, at most 1000 of them, and answers 400 to a body that is not JSON', async () => {
      const alex = await tokenFor('ac-alex-kim', DEMO.alex, 'PRACTITIONER');
      expect((await careAccess(alex, { patientIds: [DEMO.jane, 5, null, { id: DEMO.john }, [DEMO.john]] })).body).toEqual({ allowed: [DEMO.jane] });
      expect((await careAccess(alex, { patientIds: DEMO.jane })).body).toEqual({ allowed: [] });
      expect((await careAccess(alex, { patientIds: { 0: DEMO.jane, length: 1 } })).body).toEqual({ allowed: [] });
      expect((await careAccess(alex, {})).body).toEqual({ allowed: [] });
      const filler = Array.from({ length: 999 }, (_, i) => `pt-filler-${i}`);
      expect((await careAccess(alex, { patientIds: [...filler, DEMO.jane] })).body).toEqual({ allowed: [DEMO.jane] });
      expect((await careAccess(alex, { patientIds: [...filler, 'pt-filler-x', DEMO.jane] })).body).toEqual({ allowed: [] });
      expect((await careAccess(alex, { patientIds: [...filler.slice(1), 'pt-filler-x', DEMO.jane] })).body).toEqual({ allowed: [DEMO.jane] });
      for (const bad of ['{"patientIds": [', '', 'null']) {
        expect(await careAccess(alex, bad)).toEqual({ status: 400, body: { error: 'bad request' } });
      }
    });

    it('answers 401 without a valid token, or for a session that ended, and 503 when sessions cannot be checked', async () => {
      expect(await careAccess(null, { patientIds: asked })).toEqual({ status: 401, body: { error: 'unauthenticated' } });
      expect(await careAccess('not.a.token', { patientIds: asked })).toEqual({ status: 401, body: { error: 'unauthenticated' } });
      const alex = await tokenFor('ac-alex-kim', DEMO.alex, 'PRACTITIONER');
      const [, payload] = alex.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sid: string };
      // A token outlives its session: the session decides.
      await sessions.end({ sessionId: claims.sid } as Viewer);
      expect(await careAccess(alex, { patientIds: asked })).toEqual({ status: 401, body: { error: 'session ended' } });
      const live = await tokenFor('ac-alex-kim', DEMO.alex, 'PRACTITIONER');
      const failing = (e: unknown) => ({
        check: async () => {
          throw e;
        },
      });
      for (const e of [new PortalError(ErrorCode.SERVICE_UNAVAILABLE, 'down'), new PortalError(ErrorCode.FORBIDDEN, 'no'), new Error('boom')]) {
        expect(await careAccess(live, { patientIds: asked }, failing(e))).toEqual({ status: 503, body: { error: 'unavailable' } });
      }
      expect(await careAccess(live, { patientIds: asked }, failing(new PortalError(ErrorCode.UNAUTHENTICATED, 'ended')))).toEqual({
        status: 401,
        body: { error: 'session ended' },
      });
      // A service token is answered without asking the sessions at all.
      expect((await careAccess(await serviceToken(), { patientIds: asked }, failing(new Error('boom')))).status).toBe(200);
    });
  });

  describe('POST /internal/sessions/check', () => {
    const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
    const check = (token: string | null, guard?: Pick<SessionService, 'check'>) => routesWith(guard)['POST /internal/sessions/check'](request(token), Buffer.alloc(0), 'req-2');

    it('says a live session is active and until when (15 idle minutes from now), never to be cached', async () => {
      const jane = await tokenFor('ac-jane-doe', DEMO.jane, 'PATIENT', 'DS_LOGON');
      now += 60_000;
      expect(await check(jane)).toEqual({ status: 200, body: { active: true, expiresAt: new Date(now + 15 * 60_000).toISOString() }, headers: NO_STORE });
    });

    it('says an ended session is not active', async () => {
      const jane = await tokenFor('ac-jane-doe', DEMO.jane, 'PATIENT', 'DS_LOGON');
      now += 15 * 60_000;
      expect(await check(jane)).toEqual({ status: 200, body: { active: false }, headers: NO_STORE });
    });

    it('answers 401 without a valid token, and to a service token, which has no session', async () => {
      const asked: Viewer[] = [];
      const guard = {
        check: async (v: Viewer) => {
          asked.push(v);
          return new Date(now);
        },
      };
      expect(await check(null, guard)).toEqual({ status: 401, body: { active: false } });
      expect(await check('not.a.token', guard)).toEqual({ status: 401, body: { active: false } });
      expect(await check(await serviceToken(), guard)).toEqual({ status: 401, body: { active: false } });
      expect(asked).toEqual([]);
    });

    it('answers 503, not "inactive", when sessions cannot be checked', async () => {
      const jane = await tokenFor('ac-jane-doe', DEMO.jane, 'PATIENT', 'DS_LOGON');
      for (const e of [new PortalError(ErrorCode.SERVICE_UNAVAILABLE, 'down'), new PortalError(ErrorCode.FORBIDDEN, 'no'), new Error('boom')]) {
        const guard = {
          check: async () => {
            throw e;
          },
        };
        expect(await check(jane, guard)).toEqual({ status: 503, body: { error: 'unavailable' } });
      }
    });
  });
});

describe('identity’s own care-access check (module.careAccess)', () => {
  let t: TestIdentityDatabase;
  beforeAll(async () => {
    t = await openTestIdentityDatabase();
  });
  afterAll(async () => {
    await t?.close();
  });
  const viewer = (personId: string, role: Role): Viewer => ({ accountId: `ac-${personId}`, personId, role, method: 'CAC', sessionId: 's', careTeamIds: [], scopes: [], expiresAt: new Date(), token: 't' });

  it('allows a practitioner the patients of their care teams, and anyone else no one', async () => {
    const check = createIdentityModule().careAccess!({ database: t.db } as never);
    const asked = [DEMO.jane, DEMO.john, 'pt-unknown'];
    expect(await check(viewer(DEMO.alex, 'PRACTITIONER'), asked)).toEqual(new Set([DEMO.jane, DEMO.john]));
    expect(await check(viewer(DEMO.riley, 'PRACTITIONER'), asked)).toEqual(new Set([DEMO.jane]));
    expect(await check(viewer(DEMO.morgan, 'PRACTITIONER'), asked)).toEqual(new Set());
    for (const role of ['PATIENT', 'PHARMACIST', 'SERVICE'] as Role[]) {
      expect(await check(viewer(DEMO.alex, role), asked)).toEqual(new Set());
      expect(await check(viewer(DEMO.jane, role), asked)).toEqual(new Set());
    }
  });
});
