import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Access, proxyGrantsOf, remoteCareAccess, remoteCareTeams, remotePharmacyAccess, remoteProxyAccess, type CareAccessCheck, type ProxyAccessCheck, type ProxyGrant } from './access';
import { AuditTrail } from './audit';
import { openAuditDatabase } from './auditTesting';
import type { Role, Viewer } from './auth/tokens';

const viewerOf = (role: Role, over: Partial<Viewer> = {}): Viewer => ({
  accountId: `ac-${role.toLowerCase()}`,
  personId: role === 'PATIENT' ? 'pt-me' : `pr-${role.toLowerCase()}`,
  role,
  method: role === 'SERVICE' ? 'SERVICE' : 'DS_LOGON',
  sessionId: 's-1',
  careTeamIds: [],
  scopes: [],
  expiresAt: new Date(Date.now() + 60_000),
  token: 'the-token',
  ...over,
});

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<{ code: unknown; message: string } | 'OK'> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'OK';
  } catch (e) {
    return { code: (e as { extensions?: { code?: unknown } }).extensions?.code, message: (e as Error).message };
  }
}

describe('Access', () => {
  let audit: Awaited<ReturnType<typeof openAuditDatabase>>;
  let requests = 0;
  beforeAll(async () => {
    audit = await openAuditDatabase();
  });
  afterAll(async () => {
    await audit?.close();
  });

  /** An Access for one request, with a care-access answer that treats `treats`, and what it asked. */
  function accessFor(viewer: Viewer | null, treats: string[] = [], pending: string[] = []) {
    const requestId = `req-${++requests}`;
    const trail = new AuditTrail(audit.db.dataSource, 'probe', requestId, viewer);
    const asked: { viewer: Viewer; ids: string[] }[] = [];
    const careAccess: CareAccessCheck = async (v, ids) => {
      asked.push({ viewer: v, ids: [...ids] });
      return new Set(ids.filter((id) => treats.includes(id)));
    };
    return {
      access: new Access(viewer, trail, careAccess, undefined, async (_v, ids) => new Set(ids.filter((id) => pending.includes(id)))),
      asked,
      async events() {
        await trail.flush();
        return (await audit.rows()).filter((r) => r.requestId === requestId).map((r) => `${r.actorRole} ${r.patientId} ${r.recordKind} ${r.action} ${r.outcome}`);
      },
    };
  }

  // Who may see what is decided by each subgraph's declared policy (see policy.test.ts); Access answers the facts.
  describe('facts about the viewer', () => {
    it('asks for a sign-in without a viewer, and treats no one / has no case', async () => {
      const { access, asked } = accessFor(null, ['pt-me'], ['pt-me']);
      expect(await codeOf(() => access.requireViewer())).toEqual({ code: 'UNAUTHENTICATED', message: 'Sign in to see this.' });
      expect(await access.treats('pt-me')).toBe(false);
      expect(await access.hasPharmacyCase('pt-me')).toBe(false);
      expect(asked).toEqual([]);
    });

    it('asks identity, once for all of a request’s patients and only for a practitioner, whom they treat', async () => {
      const alex = viewerOf('PRACTITIONER');
      const { access, asked } = accessFor(alex, ['pt-1', 'pt-3']);
      expect(await Promise.all(['pt-1', 'pt-2', 'pt-3', 'pt-1'].map((id) => access.treats(id)))).toEqual([true, false, true, true]);
      expect(asked).toEqual([{ viewer: alex, ids: ['pt-1', 'pt-2', 'pt-3'] }]);
      for (const role of ['PATIENT', 'PHARMACIST', 'ADMIN', 'SERVICE'] as const) {
        const other = accessFor(viewerOf(role), ['pt-1']);
        expect([role, await other.access.treats('pt-1')]).toEqual([role, false]);
        expect(other.asked).toEqual([]);
      }
    });

    it('gives a pharmacist a case for a patient with a pending request or looked up in this request; only a pharmacist may look up', async () => {
      const { access } = accessFor(viewerOf('PHARMACIST'), [], ['pt-pending']);
      expect(await access.hasPharmacyCase('pt-pending')).toBe(true);
      expect(await access.hasPharmacyCase('pt-looked')).toBe(false);
      access.allowPharmacistLookup('pt-looked');
      expect(await access.hasPharmacyCase('pt-looked')).toBe(true);
      expect(await access.hasPharmacyCase('pt-else')).toBe(false);
      const practitioner = accessFor(viewerOf('PRACTITIONER'), [], ['pt-pending']).access;
      expect(await practitioner.hasPharmacyCase('pt-pending')).toBe(false);
      expect(await codeOf(() => practitioner.allowPharmacistLookup('pt-looked'))).toEqual({ code: 'FORBIDDEN', message: 'Only a pharmacist can look a patient up for dispensing.' });
    });

    it('writes what it is told to the request’s audit trail, once per event', async () => {
      const { access, events } = accessFor(viewerOf('PATIENT'));
      access.record('pt-me', 'allergy', 'read', 'ALLOWED');
      access.record('pt-me', 'allergy', 'read', 'ALLOWED');
      access.record('pt-other', 'vital', 'delete', 'DENIED');
      expect(await events()).toEqual(['PATIENT pt-me allergy read ALLOWED', 'PATIENT pt-other vital delete DENIED']);
    });
  });

  describe('care teams', () => {
    it('are what identity answers now for a patient or practitioner, asked once per request, not the token’s snapshot', async () => {
      for (const role of ['PATIENT', 'PRACTITIONER'] as const) {
        const viewer = viewerOf(role, { careTeamIds: ['ct-in-token'] });
        const trail = new AuditTrail(audit.db.dataSource, 'probe', `req-${++requests}`, viewer);
        const asked: Viewer[] = [];
        const access = new Access(viewer, trail, async () => new Set(), async (v) => {
          asked.push(v);
          return ['ct-now'];
        });
        expect(await access.careTeamIds()).toEqual(['ct-now']);
        expect(await access.careTeamIds()).toEqual(['ct-now']);
        expect(asked).toEqual([viewer]);
      }
    });

    it('are none for a pharmacist, an administrator or a service, without asking; a sign-in for no viewer', async () => {
      for (const role of ['PHARMACIST', 'ADMIN', 'SERVICE'] as const) {
        const viewer = viewerOf(role, { careTeamIds: ['ct-in-token'] });
        const access = new Access(viewer, new AuditTrail(audit.db.dataSource, 'probe', `req-${++requests}`, viewer), async () => new Set(), async () => {
          throw new Error('asked');
        });
        expect([role, await access.careTeamIds()]).toEqual([role, []]);
      }
      expect(await codeOf(() => accessFor(null).access.careTeamIds())).toEqual({ code: 'UNAUTHENTICATED', message: 'Sign in to see this.' });
    });

    it('are the token’s when no live check is given (tests and tools only)', async () => {
      const viewer = viewerOf('PRACTITIONER', { careTeamIds: ['ct-in-token'] });
      const access = new Access(viewer, new AuditTrail(audit.db.dataSource, 'probe', `req-${++requests}`, viewer), async () => new Set());
      expect(await access.careTeamIds()).toEqual(['ct-in-token']);
      // And without a pharmacy check, no patient has a request pending.
      const pharmacist = viewerOf('PHARMACIST');
      expect(await new Access(pharmacist, new AuditTrail(audit.db.dataSource, 'probe', `req-${++requests}`, pharmacist), async () => new Set()).hasPharmacyCase('pt-1')).toBe(false);
    });
  });
});

describe('remoteCareAccess', () => {
  let server: http.Server;
  let url: string;
  let seen: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  let reply: (res: http.ServerResponse) => void;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        reply(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen = [];
  });

  const json = (status: number, body: unknown) => (res: http.ServerResponse) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  it('asks identity with the viewer’s own token and returns the patients it names', async () => {
    reply = json(200, { allowed: ['pt-1', 7] });
    const allowed = await remoteCareAccess(url)(viewerOf('PRACTITIONER', { token: 'tok-123' }), ['pt-1', 'pt-2']);
    expect(allowed).toEqual(new Set(['pt-1', '7']));
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/internal/care-access',
        headers: expect.objectContaining({ authorization: 'Bearer tok-123', 'content-type': 'application/json' }),
        body: JSON.stringify({ patientIds: ['pt-1', 'pt-2'] }),
      },
    ]);
  });

  it('treats no one when the answer names no list', async () => {
    reply = json(200, { allowed: 'pt-1' });
    expect(await remoteCareAccess(url)(viewerOf('PRACTITIONER'), ['pt-1'])).toEqual(new Set());
    reply = json(200, {});
    expect(await remoteCareAccess(url)(viewerOf('PRACTITIONER'), ['pt-1'])).toEqual(new Set());
  });

  it('asks identity for the viewer’s care teams now, with the viewer’s own token', async () => {
    reply = json(200, { allowed: [], careTeamIds: ['ct-1', 2] });
    expect(await remoteCareTeams(url)(viewerOf('PATIENT', { token: 'tok-teams' }))).toEqual(['ct-1', '2']);
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/internal/care-access',
        headers: expect.objectContaining({ authorization: 'Bearer tok-teams', 'content-type': 'application/json' }),
        body: JSON.stringify({ patientIds: [], careTeams: true }),
      },
    ]);
    reply = json(200, { allowed: [], careTeamIds: 'ct-1' });
    expect(await remoteCareTeams(url)(viewerOf('PATIENT'))).toEqual([]);
    reply = json(503, { careTeamIds: ['ct-1'] });
    expect(await codeOf(remoteCareTeams(url)(viewerOf('PATIENT')))).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });

  it('asks pharmacy which patients have a request pending, with the pharmacist’s own token, at the address it has now', async () => {
    let base: string | undefined;
    const pending = remotePharmacyAccess(() => base);
    // No pharmacy known (yet): no request is pending, and nothing is asked.
    expect(await pending(viewerOf('PHARMACIST'), ['pt-1'])).toEqual(new Set());
    expect(seen).toEqual([]);
    base = url;
    reply = json(200, { pending: ['pt-1', 3] });
    expect(await pending(viewerOf('PHARMACIST', { token: 'tok-ph' }), ['pt-1', 'pt-2'])).toEqual(new Set(['pt-1', '3']));
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/internal/pharmacy-access',
        headers: expect.objectContaining({ authorization: 'Bearer tok-ph', 'content-type': 'application/json' }),
        body: JSON.stringify({ patientIds: ['pt-1', 'pt-2'] }),
      },
    ]);
    reply = json(200, { pending: 'pt-1' });
    expect(await pending(viewerOf('PHARMACIST'), ['pt-1'])).toEqual(new Set());
    const unavailable = { code: 'SERVICE_UNAVAILABLE', message: 'Access to this record could not be checked right now. Try again shortly.' };
    for (const status of [401, 500]) {
      reply = json(status, { pending: ['pt-1'] });
      expect(await codeOf(pending(viewerOf('PHARMACIST'), ['pt-1']))).toEqual(unavailable);
    }
    base = 'http://127.0.0.1:1';
    expect(await codeOf(pending(viewerOf('PHARMACIST'), ['pt-1']))).toEqual(unavailable);
  });

  it('is SERVICE_UNAVAILABLE when identity refuses, fails or cannot be reached: never "allowed"', async () => {
    const unavailable = { code: 'SERVICE_UNAVAILABLE', message: 'Access to this record could not be checked right now. Try again shortly.' };
    reply = json(401, { allowed: ['pt-1'] });
    expect(await codeOf(remoteCareAccess(url)(viewerOf('PRACTITIONER'), ['pt-1']))).toEqual(unavailable);
    reply = json(500, { allowed: ['pt-1'] });
    expect(await codeOf(remoteCareAccess(url)(viewerOf('PRACTITIONER'), ['pt-1']))).toEqual(unavailable);
    expect(await codeOf(remoteCareAccess('http://127.0.0.1:1')(viewerOf('PRACTITIONER'), ['pt-1']))).toEqual(unavailable);
    // A 200 whose body is JSON but not an object is no answer either (not "treats no one").
    for (const body of [null, 'pt-1', 5, true]) {
      reply = json(200, body);
      expect([body, await codeOf(remoteCareAccess(url)(viewerOf('PRACTITIONER'), ['pt-1']))]).toEqual([body, unavailable]);
    }
  });
});

describe('proxy grants in the request’s Access', () => {
  let audit: Awaited<ReturnType<typeof openAuditDatabase>>;
  let requests = 0;
  beforeAll(async () => {
    audit = await openAuditDatabase();
  });
  afterAll(async () => {
    await audit?.close();
  });

  /** An Access whose identity answers `grants` (patient id -> grant) for any patient viewer, and what it was asked. */
  function accessFor(viewer: Viewer | null, grants: Record<string, ProxyGrant> = {}) {
    const requestId = `req-proxy-${++requests}`;
    const trail = new AuditTrail(audit.db.dataSource, 'probe', requestId, viewer);
    const asked: string[][] = [];
    const proxyAccess: ProxyAccessCheck = async (_v, ids) => {
      asked.push([...ids]);
      return new Map(ids.filter((id) => grants[id]).map((id) => [id, grants[id]]));
    };
    return {
      access: new Access(viewer, trail, async () => new Set(), undefined, undefined, proxyAccess),
      asked,
      async events() {
        await trail.flush();
        return (await audit.rows()).filter((r) => r.requestId === requestId).map((r) => `${r.actorRole} ${r.patientId} ${r.recordKind} ${r.action} ${r.outcome}`);
      },
    };
  }
  const child = { scopes: ['APPOINTMENTS', 'NOTES'], hideSensitive: false };
  const teen = { scopes: ['NOTES'], hideSensitive: true };

  it('answers a patient viewer’s grants, asking identity once for all of a request’s patients', async () => {
    const { access, asked } = accessFor(viewerOf('PATIENT'), { 'pt-child': child, 'pt-teen': teen });
    const answers = await Promise.all(['pt-child', 'pt-teen', 'pt-else', 'pt-child'].map((id) => access.proxyGrant(id)));
    expect(answers).toEqual([child, teen, null, child]);
    expect(asked).toEqual([['pt-child', 'pt-teen', 'pt-else']]);
  });

  it('is null for the viewer’s own record and for anyone not a patient, without asking', async () => {
    const self = accessFor(viewerOf('PATIENT'), { 'pt-me': child });
    expect(await self.access.proxyGrant('pt-me')).toBeNull();
    expect(self.asked).toEqual([]);
    for (const role of ['PRACTITIONER', 'PHARMACIST', 'ADMIN', 'SERVICE'] as const) {
      const other = accessFor(viewerOf(role), { 'pt-child': child });
      expect([role, await other.access.proxyGrant('pt-child')]).toEqual([role, null]);
      expect(other.asked).toEqual([]);
    }
    const nobody = accessFor(null, { 'pt-child': child });
    expect(await nobody.access.proxyGrant('pt-child')).toBeNull();
    expect(await nobody.access.hidesSensitive('pt-child')).toBe(false);
  });

  it('hides sensitive records exactly where the grant says so', async () => {
    const { access } = accessFor(viewerOf('PATIENT'), { 'pt-child': child, 'pt-teen': teen });
    expect(await access.hidesSensitive('pt-teen')).toBe(true);
    expect(await access.hidesSensitive('pt-child')).toBe(false);
    expect(await access.hidesSensitive('pt-else')).toBe(false);
    expect(await access.hidesSensitive('pt-me')).toBe(false);
  });

  it('audits a patient acting under a grant found in this request as PROXY, their own record and the rest as PATIENT', async () => {
    const { access, events } = accessFor(viewerOf('PATIENT'), { 'pt-child': child });
    access.record('pt-child', 'note', 'read', 'ALLOWED');
    await access.proxyGrant('pt-child');
    await access.proxyGrant('pt-else');
    access.record('pt-child', 'note', 'update', 'ALLOWED');
    access.record('pt-else', 'note', 'read', 'DENIED');
    access.record('pt-me', 'note', 'read', 'ALLOWED');
    // Before the grant was asked, nothing said the patient acted as a proxy.
    expect((await events()).sort()).toEqual(['PATIENT pt-child note read ALLOWED', 'PATIENT pt-else note read DENIED', 'PATIENT pt-me note read ALLOWED', 'PROXY pt-child note update ALLOWED']);
  });
});

describe('remoteProxyAccess', () => {
  let server: http.Server;
  let url: string;
  let seen: { url?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  let reply: (res: http.ServerResponse) => void;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ url: req.url, headers: req.headers, body });
        reply(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen = [];
  });
  const json = (status: number, body: unknown) => (res: http.ServerResponse) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  it('asks identity’s care-access route with proxy: true and the viewer’s own token, and reads its proxy answer', async () => {
    reply = json(200, { allowed: [], proxy: { 'pt-child': { scopes: ['APPOINTMENTS', 3], hideSensitive: false }, 'pt-teen': { scopes: ['NOTES'], hideSensitive: true } } });
    const grants = await remoteProxyAccess(url)(viewerOf('PATIENT', { token: 'tok-proxy' }), ['pt-child', 'pt-teen', 'pt-else']);
    expect(grants).toEqual(new Map([['pt-child', { scopes: ['APPOINTMENTS'], hideSensitive: false }], ['pt-teen', { scopes: ['NOTES'], hideSensitive: true }]]));
    expect(seen).toEqual([
      {
        url: '/internal/care-access',
        headers: expect.objectContaining({ authorization: 'Bearer tok-proxy', 'content-type': 'application/json' }),
        body: JSON.stringify({ patientIds: ['pt-child', 'pt-teen', 'pt-else'], proxy: true }),
      },
    ]);
  });

  it('is SERVICE_UNAVAILABLE when identity refuses or cannot be reached: never a grant', async () => {
    const unavailable = { code: 'SERVICE_UNAVAILABLE', message: 'Access to this record could not be checked right now. Try again shortly.' };
    reply = json(401, { proxy: { 'pt-child': { scopes: ['NOTES'], hideSensitive: false } } });
    expect(await codeOf(remoteProxyAccess(url)(viewerOf('PATIENT'), ['pt-child']))).toEqual(unavailable);
    expect(await codeOf(remoteProxyAccess('http://127.0.0.1:1')(viewerOf('PATIENT'), ['pt-child']))).toEqual(unavailable);
  });

  it('keeps only well-formed grants, and hides sensitive records unless told plainly not to', () => {
    expect(proxyGrantsOf(undefined)).toEqual(new Map());
    expect(proxyGrantsOf('pt-1')).toEqual(new Map());
    expect(
      proxyGrantsOf({
        'pt-none': null,
        'pt-text': 'NOTES',
        'pt-no-list': { scopes: 'NOTES', hideSensitive: false },
        'pt-unsaid': { scopes: ['NOTES'] },
        'pt-odd': { scopes: ['NOTES'], hideSensitive: 'no' },
        'pt-plain': { scopes: [], hideSensitive: false },
      }),
    ).toEqual(
      new Map([
        ['pt-unsaid', { scopes: ['NOTES'], hideSensitive: true }],
        ['pt-odd', { scopes: ['NOTES'], hideSensitive: true }],
        ['pt-plain', { scopes: [], hideSensitive: false }],
      ]),
    );
  });
});
