import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Access, remoteCareAccess, remoteCareTeams, remotePharmacyAccess, SERVICE_SCOPES, scopeFor, type CareAccessCheck } from './access';
import { AuditTrail, type RecordKind } from './audit';
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

const KINDS: RecordKind[] = ['demographics', 'care_team', 'appointment', 'message', 'prescription', 'pharmacy_request', 'lab_result', 'visit_note', 'condition', 'allergy', 'immunization', 'vital'];

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<{ code: unknown; message: string } | 'OK'> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'OK';
  } catch (e) {
    return { code: (e as { extensions?: { code?: unknown } }).extensions?.code, message: (e as Error).message };
  }
}

describe('scopes of service credentials', () => {
  it('name the subgraph owning the record kind, :read for reads and :write for any change', () => {
    expect(Object.fromEntries(KINDS.map((k) => [k, scopeFor(k)]))).toEqual({
      demographics: 'identity:read',
      care_team: 'identity:read',
      appointment: 'scheduling:read',
      message: 'messaging:read',
      prescription: 'pharmacy:read',
      pharmacy_request: 'pharmacy:read',
      lab_result: 'clinical-records:read',
      visit_note: 'clinical-records:read',
      condition: 'clinical-records:read',
      allergy: 'clinical-records:read',
      immunization: 'clinical-records:read',
      vital: 'clinical-records:read',
    });
    expect(scopeFor('message', 'read')).toBe('messaging:read');
    expect(scopeFor('message', 'create')).toBe('messaging:write');
    expect(scopeFor('lab_result', 'update')).toBe('clinical-records:write');
    expect(scopeFor('appointment', 'delete')).toBe('scheduling:write');
  });

  it('are a read and a write scope per subgraph, nothing else', () => {
    expect(SERVICE_SCOPES).toEqual([
      'identity:read',
      'identity:write',
      'scheduling:read',
      'scheduling:write',
      'messaging:read',
      'messaging:write',
      'pharmacy:read',
      'pharmacy:write',
      'clinical-records:read',
      'clinical-records:write',
    ]);
  });
});

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

  describe('without a viewer', () => {
    it('asks for a sign-in for anything that needs one, and may nothing', async () => {
      const { access, events, asked } = accessFor(null);
      const unauthenticated = { code: 'UNAUTHENTICATED', message: 'Sign in to see this.' };
      expect(await codeOf(() => access.requireViewer())).toEqual(unauthenticated);
      expect(await codeOf(() => access.requirePatient())).toEqual(unauthenticated);
      expect(await codeOf(() => access.requireStaff())).toEqual(unauthenticated);
      expect(await access.may('pt-me', 'demographics')).toBe(false);
      expect(await codeOf(access.check('pt-me', 'demographics'))).toEqual(unauthenticated);
      expect(await codeOf(access.assert('pt-me', 'demographics'))).toEqual(unauthenticated);
      expect(await codeOf(access.assertOrNotFound('pt-me', 'demographics', 'The record'))).toEqual(unauthenticated);
      expect(asked).toEqual([]);
      expect(await events()).toEqual([]);
    });
  });

  describe('a patient', () => {
    it('may read and change only their own records, of every kind', async () => {
      const { access, events } = accessFor(viewerOf('PATIENT'), ['pt-me', 'pt-other']);
      for (const kind of KINDS) {
        expect([kind, await access.may('pt-me', kind)]).toEqual([kind, true]);
        expect([kind, await access.may('pt-me', kind, 'update')]).toEqual([kind, true]);
        expect([kind, await access.may('pt-other', kind)]).toEqual([kind, false]);
      }
      expect(await access.check('pt-me', 'lab_result')).toBe(true);
      expect(await access.check('pt-other', 'lab_result')).toBe(false);
      expect(await events()).toEqual(['PATIENT pt-me lab_result read ALLOWED', 'PATIENT pt-other lab_result read DENIED']);
    });

    it('is the patient requirePatient names, and not staff', async () => {
      const { access } = accessFor(viewerOf('PATIENT'));
      expect(access.requirePatient()).toBe('pt-me');
      expect(access.requireViewer()).toBe(access.viewer);
      expect(await codeOf(() => access.requireStaff())).toEqual({ code: 'FORBIDDEN', message: 'Only care staff can do this.' });
    });
  });

  describe('a practitioner', () => {
    it('may read exactly the patients identity says they treat, asked once for all of a request’s patients, with their own credentials', async () => {
      const alex = viewerOf('PRACTITIONER');
      const { access, asked, events } = accessFor(alex, ['pt-1', 'pt-3']);
      const answers = await Promise.all(['pt-1', 'pt-2', 'pt-3', 'pt-1'].map((id) => access.may(id, 'visit_note')));
      expect(answers).toEqual([true, false, true, true]);
      expect(asked).toEqual([{ viewer: alex, ids: ['pt-1', 'pt-2', 'pt-3'] }]);
      expect(await access.check('pt-2', 'condition', 'create')).toBe(false);
      expect(await access.check('pt-3', 'condition', 'create')).toBe(true);
      expect(await events()).toEqual(['PRACTITIONER pt-2 condition create DENIED', 'PRACTITIONER pt-3 condition create ALLOWED']);
    });

    it('treats no one when identity names no one', async () => {
      const { access } = accessFor(viewerOf('PRACTITIONER'), []);
      expect(await access.may('pt-1', 'demographics')).toBe(false);
    });

    it('is staff, and not a patient', async () => {
      const { access } = accessFor(viewerOf('PRACTITIONER'));
      expect(access.requireStaff()).toBe(access.viewer);
      expect(await codeOf(() => access.requirePatient())).toEqual({ code: 'FORBIDDEN', message: 'Only a patient can do this.' });
    });
  });

  describe('a pharmacist', () => {
    it('may read demographics, prescriptions and pharmacy requests of a patient with a pending request, and nothing else', async () => {
      const { access, asked } = accessFor(viewerOf('PHARMACIST'), [], ['pt-pending']);
      const allowed = async (patientId: string) => {
        const kinds = [];
        for (const kind of KINDS) if (await access.may(patientId, kind)) kinds.push(kind);
        return kinds;
      };
      expect(await allowed('pt-pending')).toEqual(['demographics', 'prescription', 'pharmacy_request']);
      expect(await allowed('pt-other')).toEqual([]);
      expect(asked).toEqual([]);
      expect(access.requireStaff()).toBe(access.viewer);
    });

    it('may read the same of a patient looked up for dispensing, for the rest of the request; only a pharmacist may look up', async () => {
      const { access } = accessFor(viewerOf('PHARMACIST'));
      expect(await access.may('pt-looked', 'prescription')).toBe(false);
      access.allowPharmacistLookup('pt-looked');
      expect(await access.may('pt-looked', 'prescription')).toBe(true);
      expect(await access.may('pt-looked', 'visit_note')).toBe(false);
      expect(await access.may('pt-else', 'prescription')).toBe(false);
      const practitioner = accessFor(viewerOf('PRACTITIONER')).access;
      expect(await codeOf(() => practitioner.allowPharmacistLookup('pt-looked'))).toEqual({ code: 'FORBIDDEN', message: 'Only a pharmacist can look a patient up for dispensing.' });
    });
  });

  describe('a service', () => {
    it('may exactly what its scopes name, for any patient', async () => {
      const { access, events } = accessFor(viewerOf('SERVICE', { scopes: ['pharmacy:read', 'messaging:write'] }));
      const allowed = [];
      for (const kind of KINDS) if (await access.may('pt-any', kind)) allowed.push(kind);
      expect(allowed).toEqual(['prescription', 'pharmacy_request']);
      expect(await access.may('pt-any', 'message', 'create')).toBe(true);
      expect(await access.may('pt-any', 'message')).toBe(false);
      expect(await access.may('pt-any', 'prescription', 'update')).toBe(false);
      expect(await access.check('pt-any', 'message', 'create')).toBe(true);
      expect(await events()).toEqual(['SERVICE pt-any message create ALLOWED']);
      expect(await codeOf(() => access.requireStaff())).toMatchObject({ code: 'FORBIDDEN' });
      expect(await codeOf(() => access.requirePatient())).toMatchObject({ code: 'FORBIDDEN' });
    });
  });

  describe('an administrator', () => {
    it('may read no patient’s records', async () => {
      const { access, asked } = accessFor(viewerOf('ADMIN', { scopes: SERVICE_SCOPES.slice() }), ['pt-1']);
      for (const kind of KINDS) expect([kind, await access.may('pt-1', kind)]).toEqual([kind, false]);
      expect(asked).toEqual([]);
      expect(await codeOf(() => access.requireStaff())).toEqual({ code: 'FORBIDDEN', message: 'Only care staff can do this.' });
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
      expect(await new Access(pharmacist, new AuditTrail(audit.db.dataSource, 'probe', `req-${++requests}`, pharmacist), async () => new Set()).may('pt-1', 'prescription')).toBe(false);
    });
  });

  describe('assert and assertOrNotFound', () => {
    it('pass silently when allowed and audit it', async () => {
      const { access, events } = accessFor(viewerOf('PATIENT'));
      await access.assert('pt-me', 'allergy');
      await access.assertOrNotFound('pt-me', 'vital', 'The vital sign', 'delete');
      expect(await events()).toEqual(['PATIENT pt-me allergy read ALLOWED', 'PATIENT pt-me vital delete ALLOWED']);
    });

    it('refuse with FORBIDDEN, or with a NOT_FOUND indistinguishable from a missing record, and audit the refusal', async () => {
      const { access, events } = accessFor(viewerOf('PATIENT'));
      expect(await codeOf(access.assert('pt-other', 'allergy', 'update'))).toEqual({ code: 'FORBIDDEN', message: 'You are not allowed to see or change this.' });
      expect(await codeOf(access.assertOrNotFound('pt-other', 'message', 'The message'))).toEqual({ code: 'NOT_FOUND', message: 'The message was not found.' });
      expect(await events()).toEqual(['PATIENT pt-other allergy update DENIED', 'PATIENT pt-other message read DENIED']);
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
  });
});
