import { Access, type CareAccessCheck } from './access';
import { AuditTrail } from './audit';
import { openAuditDatabase } from './auditTesting';
import type { Role, Viewer } from './auth/tokens';
import { allOf, anyOf, careTeam, definePolicy, gate, patientSelf, pharmacist, proxyFor, roles, rule, serviceScope } from './policy';
import type { ProxyAccessCheck, ProxyGrant } from './access';

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

/** A policy as a subgraph would declare it: its own kinds, scopes and fields. */
const READERS = anyOf(patientSelf, proxyFor('NOTES'), careTeam, pharmacist, serviceScope('notes:read'));
const policy = definePolicy({
  healthTypes: [],
  otherTypes: {},
  openFields: {},
  entries: {
    'Patient.notes': { allow: READERS, audit: { kind: 'note', action: 'read' } },
    'Note.__resolveReference': { allow: READERS, audit: { kind: 'note', action: 'read' }, hideAs: 'The note' },
    'Mutation.writeNote': {
      gate: roles(['PATIENT'], 'Only a patient can do this.'),
      allow: anyOf(patientSelf, serviceScope('notes:write')),
      audit: { kind: 'note', action: 'create' },
    },
    'Mutation.postNote': { allow: serviceScope('notes:write'), audit: { kind: 'note', action: 'create' }, refusal: 'Only a service with notes:write can post.' },
    'Mutation.writeNote#team': {
      allow: rule('member of the team', async (_v, s, access) => (await access.careTeamIds()).includes(String(s.teamId))),
      audit: { kind: 'note', action: 'create', only: 'DENIED' },
    },
    'Staff.teams': {
      gate: gate('the staff member themself', 'Only the staff member themself.', (viewer, facts) => viewer.personId === facts.patientId),
      allow: rule('themself', () => true),
    },
    'Team.notes': {
      allow: allOf(
        rule('not a draft', (_v, s) => s.state !== 'DRAFT'),
        careTeam,
      ),
      audit: { kind: 'note', action: 'read' },
    },
  },
});

describe('a declared policy', () => {
  let audit: Awaited<ReturnType<typeof openAuditDatabase>>;
  let requests = 0;
  beforeAll(async () => {
    audit = await openAuditDatabase();
  });
  afterAll(async () => {
    await audit?.close();
  });

  /** An Access for one request: identity says the practitioner treats `treats`, pharmacy that `pending` have a request. */
  function accessFor(viewer: Viewer | null, treats: string[] = [], pending: string[] = []) {
    const requestId = `req-${++requests}`;
    const trail = new AuditTrail(audit.db.dataSource, 'probe', requestId, viewer);
    const asked: { viewer: Viewer; ids: string[] }[] = [];
    const careAccess: CareAccessCheck = async (v, ids) => {
      asked.push({ viewer: v, ids: [...ids] });
      return new Set(ids.filter((id) => treats.includes(id)));
    };
    return {
      access: new Access(viewer, trail, careAccess, async () => ['team-1'], async (_v, ids) => new Set(ids.filter((id) => pending.includes(id)))),
      asked,
      async events() {
        await trail.flush();
        return (await audit.rows()).filter((r) => r.requestId === requestId).map((r) => `${r.actorRole} ${r.patientId} ${r.recordKind} ${r.action} ${r.outcome}`);
      },
    };
  }

  it('asks for a sign-in without a viewer, allows nothing and audits nothing', async () => {
    const { access, events, asked } = accessFor(null);
    const unauthenticated = { code: 'UNAUTHENTICATED', message: 'Sign in to see this.' };
    expect(await policy.may('Patient.notes', access, 'pt-me')).toBe(false);
    expect(await policy.admits('Mutation.writeNote', access)).toBe(false);
    expect(await codeOf(policy.viewer('Patient.notes', access))).toEqual(unauthenticated);
    expect(await codeOf(policy.check('Patient.notes', access, 'pt-me'))).toEqual(unauthenticated);
    expect(await codeOf(policy.assert('Note.__resolveReference', access, 'pt-me'))).toEqual(unauthenticated);
    expect(asked).toEqual([]);
    expect(await events()).toEqual([]);
  });

  it('lets a patient see only their own record, and audits each decision', async () => {
    const { access, events, asked } = accessFor(viewerOf('PATIENT'), ['pt-me', 'pt-other']);
    expect(await policy.may('Patient.notes', access, 'pt-other')).toBe(false);
    expect(await policy.check('Patient.notes', access, 'pt-me')).toBe(true);
    expect(await policy.check('Patient.notes', access, 'pt-other')).toBe(false);
    expect(asked).toEqual([]);
    expect(await events()).toEqual(['PATIENT pt-me note read ALLOWED', 'PATIENT pt-other note read DENIED']);
  });

  it('lets a practitioner see exactly whom identity says they treat, asked once for all of a request’s patients', async () => {
    const alex = viewerOf('PRACTITIONER');
    const { access, asked, events } = accessFor(alex, ['pt-1', 'pt-3']);
    const answers = await Promise.all(['pt-1', 'pt-2', 'pt-3', 'pt-1'].map((id) => policy.may('Patient.notes', access, id)));
    expect(answers).toEqual([true, false, true, true]);
    expect(asked).toEqual([{ viewer: alex, ids: ['pt-1', 'pt-2', 'pt-3'] }]);
    expect(await policy.check('Patient.notes', access, 'pt-2')).toBe(false);
    expect(await events()).toEqual(['PRACTITIONER pt-2 note read DENIED']);
  });

  it('lets a pharmacist see a patient with a request pending or looked up in this request, no one else', async () => {
    const { access, asked } = accessFor(viewerOf('PHARMACIST'), [], ['pt-pending']);
    expect(await policy.may('Patient.notes', access, 'pt-pending')).toBe(true);
    expect(await policy.may('Patient.notes', access, 'pt-looked')).toBe(false);
    access.allowPharmacistLookup('pt-looked');
    expect(await policy.may('Patient.notes', access, 'pt-looked')).toBe(true);
    expect(await policy.may('Patient.notes', access, 'pt-else')).toBe(false);
    expect(await policy.may('Team.notes', access, 'pt-pending')).toBe(false);
    expect(asked).toEqual([]);
  });

  it('lets a service do exactly what its scopes name, for any patient; an administrator nothing', async () => {
    const { access, events } = accessFor(viewerOf('SERVICE', { scopes: ['notes:read'] }));
    expect(await policy.check('Patient.notes', access, 'pt-any')).toBe(true);
    expect(await policy.may('Mutation.postNote', access, 'pt-any')).toBe(false);
    expect(await events()).toEqual(['SERVICE pt-any note read ALLOWED']);
    const admin = accessFor(viewerOf('ADMIN', { scopes: ['notes:read', 'notes:write'] }), ['pt-1'], ['pt-1']);
    expect(await policy.may('Patient.notes', admin.access, 'pt-1')).toBe(false);
    expect(admin.asked).toEqual([]);
  });

  it('lets in no other patient without a grant from identity', async () => {
    const { access } = accessFor(viewerOf('PATIENT'));
    expect(await proxyFor('NOTES').allows(viewerOf('PATIENT'), { patientId: 'pt-other' }, access)).toBe(false);
  });

  it('refuses at the gate with FORBIDDEN and its message, unaudited; admits() says the same without throwing', async () => {
    const { access, events } = accessFor(viewerOf('PRACTITIONER'), ['pt-1']);
    const refused = { code: 'FORBIDDEN', message: 'Only a patient can do this.' };
    expect(await codeOf(policy.viewer('Mutation.writeNote', access))).toEqual(refused);
    expect(await codeOf(policy.assert('Mutation.writeNote', access, 'pt-1'))).toEqual(refused);
    expect(await policy.admits('Mutation.writeNote', access)).toBe(false);
    expect(await policy.may('Mutation.writeNote', access, 'pt-1')).toBe(false);
    expect(await codeOf(policy.assert('Staff.teams', access, 'pr-other'))).toEqual({ code: 'FORBIDDEN', message: 'Only the staff member themself.' });
    expect(await policy.check('Staff.teams', access, 'pr-practitioner')).toBe(true);
    expect(await events()).toEqual([]);
    const patient = accessFor(viewerOf('PATIENT'));
    expect((await policy.viewer('Mutation.writeNote', patient.access)).personId).toBe('pt-me');
    expect(await policy.admits('Mutation.writeNote', patient.access)).toBe(true);
  });

  it('refuses with FORBIDDEN (its own message when given) or NOT_FOUND like a missing record, and audits the refusal', async () => {
    const { access, events } = accessFor(viewerOf('PATIENT'));
    expect(await codeOf(policy.assert('Patient.notes', access, 'pt-other'))).toEqual({ code: 'FORBIDDEN', message: 'You are not allowed to see or change this.' });
    expect(await codeOf(policy.assert('Note.__resolveReference', access, 'pt-else'))).toEqual({ code: 'NOT_FOUND', message: 'The note was not found.' });
    expect(await codeOf(policy.assert('Mutation.postNote', access, 'pt-me'))).toEqual({ code: 'FORBIDDEN', message: 'Only a service with notes:write can post.' });
    expect(await codeOf(() => policy.refuse('Mutation.postNote', access, 'pt-named'))).toEqual({ code: 'FORBIDDEN', message: 'Only a service with notes:write can post.' });
    await policy.assert('Mutation.writeNote', access, 'pt-me');
    expect(await events()).toEqual([
      'PATIENT pt-else note read DENIED',
      'PATIENT pt-me note create ALLOWED',
      'PATIENT pt-me note create DENIED',
      'PATIENT pt-named note create DENIED',
      'PATIENT pt-other note read DENIED',
    ]);
  });

  it('audits only refusals of an entry that says so', async () => {
    const { access, events } = accessFor(viewerOf('PATIENT'));
    await policy.assert('Mutation.writeNote#team', access, { patientId: 'pt-me', teamId: 'team-1' });
    expect(await events()).toEqual([]);
    expect(await codeOf(policy.assert('Mutation.writeNote#team', access, { patientId: 'pt-me', teamId: 'team-2' }))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await events()).toEqual(['PATIENT pt-me note create DENIED']);
  });

  it('asks allOf’s rules in order and stops at the first refusal (identity is not asked for a draft)', async () => {
    const { access, asked } = accessFor(viewerOf('PRACTITIONER'), ['pt-1']);
    expect(await policy.may('Team.notes', access, { patientId: 'pt-1', state: 'DRAFT' })).toBe(false);
    expect(asked).toEqual([]);
    expect(await policy.may('Team.notes', access, { patientId: 'pt-1', state: 'SENT' })).toBe(true);
  });

  it('requires the role in each relationship rule itself, whatever the request’s Access answers', async () => {
    // An Access that says yes to every fact: the rules must still refuse the wrong role.
    const yes = { treats: async () => true, hasPharmacyCase: async () => true } as unknown as Access;
    const subject = { patientId: 'pt-me' };
    expect(await careTeam.allows(viewerOf('PRACTITIONER'), subject, yes)).toBe(true);
    expect(await careTeam.allows(viewerOf('PHARMACIST'), subject, yes)).toBe(false);
    expect(await pharmacist.allows(viewerOf('PHARMACIST'), subject, yes)).toBe(true);
    expect(await pharmacist.allows(viewerOf('PRACTITIONER'), subject, yes)).toBe(false);
    // Someone who is not a patient is not the patient, even with the same person id.
    expect(await patientSelf.allows(viewerOf('PRACTITIONER', { personId: 'pt-me' }), subject, yes)).toBe(false);
    expect(await patientSelf.allows(viewerOf('PATIENT'), subject, yes)).toBe(true);
    expect(await serviceScope('notes:read').allows(viewerOf('PATIENT', { scopes: ['notes:read'] }), subject, yes)).toBe(false);
  });

  it('allOf allows only when every rule does; anyOf refuses only when every rule does', async () => {
    const { access } = accessFor(viewerOf('PATIENT'));
    const yes = rule('yes', () => true);
    const no = rule('no', () => false);
    const subject = { patientId: 'pt-me' };
    expect(await allOf(yes, yes).allows(viewerOf('PATIENT'), subject, access)).toBe(true);
    expect(await allOf(yes, no).allows(viewerOf('PATIENT'), subject, access)).toBe(false);
    expect(await allOf().allows(viewerOf('PATIENT'), subject, access)).toBe(true);
    expect(await anyOf(no, yes).allows(viewerOf('PATIENT'), subject, access)).toBe(true);
    expect(await anyOf(no, no).allows(viewerOf('PATIENT'), subject, access)).toBe(false);
    expect(await anyOf().allows(viewerOf('PATIENT'), subject, access)).toBe(false);
  });

  it('refuses in may() at the gate even when the rule would allow', async () => {
    const { access, events } = accessFor(viewerOf('PRACTITIONER'));
    expect(await policy.may('Staff.teams', access, 'pr-other')).toBe(false);
    expect(await policy.may('Staff.teams', access, 'pr-practitioner')).toBe(true);
    expect(await events()).toEqual([]);
  });

  it('admits any signed-in viewer to an entry without a gate, and hands a gate no facts unless given', async () => {
    const { access } = accessFor(viewerOf('ADMIN'));
    expect(await policy.admits('Patient.notes', access)).toBe(true);
    expect((await policy.viewer('Patient.notes', access)).role).toBe('ADMIN');
    const seen: Record<string, unknown>[] = [];
    const watching = definePolicy({
      healthTypes: [],
      otherTypes: {},
      openFields: {},
      entries: { 'Query.x': { gate: gate('anyone', 'never', (_v, facts) => (seen.push(facts), true)), allow: rule('anyone', () => true) } },
    });
    await watching.viewer('Query.x', access);
    await watching.admits('Query.x', access);
    await watching.admits('Query.x', access, { patientId: 'pt-1' });
    expect(seen).toEqual([{}, {}, { patientId: 'pt-1' }]);
  });

  it('refuses an unaudited entry with the default FORBIDDEN, writing no audit row', async () => {
    const { access, events } = accessFor(viewerOf('PRACTITIONER'));
    expect(await codeOf(() => policy.refuse('Staff.teams', access, 'pt-1'))).toEqual({ code: 'FORBIDDEN', message: 'You are not allowed to see or change this.' });
    expect(await codeOf(() => policy.refuse('Note.__resolveReference', access, 'pt-1'))).toEqual({ code: 'NOT_FOUND', message: 'The note was not found.' });
    expect(await events()).toEqual(['PRACTITIONER pt-1 note read DENIED']);
  });

  it('exposes its declared entries', () => {
    expect(Object.keys(policy.entries)).toEqual(Object.keys(policy.declaration.entries));
    expect(policy.entries['Patient.notes'].allow).toBe(READERS);
  });

  it('reads several roles as alternatives, and brackets an alternative inside allOf', () => {
    expect(roles(['PATIENT', 'PRACTITIONER'], 'm').describe).toBe('PATIENT or PRACTITIONER');
    expect(allOf(anyOf(patientSelf, careTeam), serviceScope('a:b')).describe).toBe('(patient self | care team) & scope a:b');
  });

  it('admits by role exactly the roles listed', async () => {
    const { access } = accessFor(viewerOf('PHARMACIST'));
    const both = roles(['PATIENT', 'PRACTITIONER'], 'm');
    expect(await both.admits(viewerOf('PRACTITIONER'), {}, access)).toBe(true);
    expect(await both.admits(viewerOf('PHARMACIST'), {}, access)).toBe(false);
  });

  it('reads as one line per entry', () => {
    expect(policy.describe()).toEqual([
      'Patient.notes: patient self | proxy with scope NOTES | care team | pharmacist with a case | scope notes:read; audits note/read',
      'Note.__resolveReference: patient self | proxy with scope NOTES | care team | pharmacist with a case | scope notes:read; audits note/read; refusal reads NOT_FOUND',
      'Mutation.writeNote: [PATIENT] patient self | scope notes:write; audits note/create',
      'Mutation.postNote: scope notes:write; audits note/create',
      'Mutation.writeNote#team: member of the team; audits note/create (refusals only)',
      'Staff.teams: [the staff member themself] themself; not audited',
      'Team.notes: not a draft & care team; audits note/read',
    ]);
  });
});

describe('proxyFor(scope)', () => {
  let audit: Awaited<ReturnType<typeof openAuditDatabase>>;
  let requests = 0;
  beforeAll(async () => {
    audit = await openAuditDatabase();
  });
  afterAll(async () => {
    await audit?.close();
  });

  const notesPolicy = definePolicy({
    healthTypes: [],
    otherTypes: {},
    openFields: {},
    entries: {
      'Patient.notes': { allow: anyOf(patientSelf, proxyFor('NOTES'), careTeam), audit: { kind: 'note', action: 'read' } },
      'Note.__resolveReference': { allow: anyOf(patientSelf, proxyFor('NOTES')), audit: { kind: 'note', action: 'read' }, hideAs: 'The note' },
    },
  });

  /** An Access whose identity says the viewer holds `grants` (patient id -> grant), and what it was asked. */
  function accessFor(viewer: Viewer, grants: Record<string, ProxyGrant> = {}, treats: string[] = []) {
    const requestId = `req-proxyfor-${++requests}`;
    const trail = new AuditTrail(audit.db.dataSource, 'probe', requestId, viewer);
    const asked: string[][] = [];
    const proxyAccess: ProxyAccessCheck = async (_v, ids) => {
      asked.push([...ids]);
      return new Map(ids.filter((id) => grants[id]).map((id) => [id, grants[id]]));
    };
    const careAccess: CareAccessCheck = async (_v, ids) => new Set(ids.filter((id) => treats.includes(id)));
    return {
      access: new Access(viewer, trail, careAccess, undefined, undefined, proxyAccess),
      asked,
      async events() {
        await trail.flush();
        return (await audit.rows()).filter((r) => r.requestId === requestId).map((r) => `${r.actorRole} ${r.patientId} ${r.recordKind} ${r.action} ${r.outcome}`);
      },
    };
  }
  const parent = { scopes: ['APPOINTMENTS', 'NOTES'], hideSensitive: false };
  const parentOfTeen = { scopes: ['APPOINTMENTS', 'NOTES'], hideSensitive: true };
  const caregiver = { scopes: ['APPOINTMENTS'], hideSensitive: false };

  it('reads as the scope it names', () => {
    expect(proxyFor('NOTES').describe).toBe('proxy with scope NOTES');
    expect(notesPolicy.describe()[0]).toBe('Patient.notes: patient self | proxy with scope NOTES | care team; audits note/read');
  });

  it('allows a patient whose live grant covers the scope, and no one whose grant does not, or who has none', async () => {
    const { access, asked } = accessFor(viewerOf('PATIENT'), { 'pt-child': parent, 'pt-friend': caregiver });
    const answers = await Promise.all(['pt-child', 'pt-friend', 'pt-stranger'].map((id) => notesPolicy.may('Patient.notes', access, id)));
    expect(answers).toEqual([true, false, false]);
    expect(asked).toEqual([['pt-child', 'pt-friend', 'pt-stranger']]);
  });

  it('refuses a sensitive record when the grant hides them, and allows it when it does not', async () => {
    const teen = accessFor(viewerOf('PATIENT'), { 'pt-teen': parentOfTeen });
    expect(await notesPolicy.may('Patient.notes', teen.access, { patientId: 'pt-teen', sensitive: true })).toBe(false);
    expect(await notesPolicy.may('Patient.notes', teen.access, { patientId: 'pt-teen', sensitive: false })).toBe(true);
    expect(await notesPolicy.may('Patient.notes', teen.access, 'pt-teen')).toBe(true);
    const child = accessFor(viewerOf('PATIENT'), { 'pt-child': parent });
    expect(await notesPolicy.may('Patient.notes', child.access, { patientId: 'pt-child', sensitive: true })).toBe(true);
  });

  it('never allows anyone but a patient, nor a patient for their own record through it, and asks nothing then', async () => {
    const rule = proxyFor('NOTES');
    for (const role of ['PRACTITIONER', 'PHARMACIST', 'ADMIN', 'SERVICE'] as const) {
      // Even a viewer of another role whose person id holds a grant in the answer.
      const { access, asked } = accessFor(viewerOf(role, { personId: 'pt-me' }), { 'pt-child': parent });
      expect([role, await rule.allows(access.requireViewer(), { patientId: 'pt-child' }, access)]).toEqual([role, false]);
      expect(asked).toEqual([]);
    }
    const { access, asked } = accessFor(viewerOf('PATIENT'), { 'pt-me': parent });
    expect(await rule.allows(access.requireViewer(), { patientId: 'pt-me' }, access)).toBe(false);
    expect(asked).toEqual([]);
  });

  it('is audited with the role PROXY, allowed or refused under a grant; without one the patient is audited as PATIENT', async () => {
    const { access, events } = accessFor(viewerOf('PATIENT'), { 'pt-child': parent, 'pt-friend': caregiver });
    expect(await notesPolicy.check('Patient.notes', access, 'pt-child')).toBe(true);
    expect(await notesPolicy.check('Patient.notes', access, 'pt-friend')).toBe(false);
    expect(await codeOf(notesPolicy.assert('Note.__resolveReference', access, 'pt-stranger'))).toEqual({ code: 'NOT_FOUND', message: 'The note was not found.' });
    expect(await notesPolicy.check('Patient.notes', access, 'pt-me')).toBe(true);
    expect((await events()).sort()).toEqual(['PATIENT pt-me note read ALLOWED', 'PATIENT pt-stranger note read DENIED', 'PROXY pt-child note read ALLOWED', 'PROXY pt-friend note read DENIED']);
  });
});
