/**
 * Proxy access in identity, on a real database (SQLite, and PostgreSQL when
 * TEST_DATABASE_URL is set): the age rules of a parent's link and the rules of
 * an adult's grant, as `me.proxyFor`, `patient(id:)` and the internal route
 * answer them; granting and revoking with their checks, audit rows and notices.
 *
 * The demo cast: Jane is the parent of Emma (12) and Liam (15); John is an
 * adult patient; Alex a practitioner on their care team.
 */
import { randomUUID } from 'node:crypto';
import { loadSigningKey, signAccessToken, type Role, type SigningKey } from '@portal/kit';
import { DEMO } from '@portal/demo';
import { AccountEntity, AffiliationEntity, PersonEntity, type PersonRow, type ProxyGrantRow } from './db/entities';
import { IdentityStore } from './db/store';
import { createSessionService, openSession } from './services/sessions';
import { MAX_GRANTS_PER_DAY, MAX_LIVE_GRANTS } from './services/proxies';
import { dayOf, PROXY_SCOPES, shiftDay } from './services/proxyRules';
import { codeOf, startIdentity, type TestIdentity } from './testing';

const ALL = [...PROXY_SCOPES];
const PROXY_FOR = `{ me { proxyFor { patient { id name { given family } } relationship scopes sensitiveHidden endsOn } } }`;
const PROXY_GRANTS = `{ me { proxyGrants { id proxyName { given family } scopes endsOn createdAt revokedAt active } } }`;
const PATIENT = `query($id: ID!) { patient(id: $id) { id dodId name { given family } dateOfBirth affiliations { organization status } careTeams { name } } }`;
const GRANT = `mutation($input: GrantProxyAccessInput!) { grantProxyAccess(input: $input) { id proxyName { given family } scopes endsOn createdAt revokedAt active } }`;
const REVOKE = `mutation($id: ID!) { revokeProxyAccess(id: $id) { id scopes revokedAt active } }`;

let identity: TestIdentity;
let store: IdentityStore;
let key: SigningKey;
let jane: string;
let john: string;
let today: string;

beforeAll(async () => {
  identity = await startIdentity();
  store = new IdentityStore(identity.server.database.dataSource);
  key = await loadSigningKey({ dataDir: identity.config.dataDir, production: false });
  jane = await identity.signIn('jane.doe', 'Demo-Password-1');
  john = await identity.signIn('john.roe', 'Demo-Password-2');
  today = dayOf(identity.clock.now());
});
afterAll(async () => {
  await identity?.stop();
});

const db = () => identity.server.database.dataSource;

/** A new patient (with an active account when `account`), born on `dateOfBirth`. */
async function newPatient(dateOfBirth: string, account = false): Promise<PersonRow & { accountId: string }> {
  const n = Math.floor(Math.random() * 1e9);
  const person: PersonRow = {
    id: `pt-test-${randomUUID()}`, kind: 'PATIENT', dodId: String(5_000_000_000 + n).slice(0, 10), givenName: 'Test', middleName: null, familyName: `Person${n}`, dateOfBirth, specialty: null,
  };
  await db().getRepository(PersonEntity).insert(person);
  await db().getRepository(AffiliationEntity).insert({ id: randomUUID(), personId: person.id, organization: 'DOD', status: 'DEPENDENT', startDate: dateOfBirth, endDate: null });
  const accountId = `ac-${person.id}`;
  if (account) {
    await db().getRepository(AccountEntity).insert({ id: accountId, personId: person.id, username: null, passwordHash: null, role: 'PATIENT', status: 'ACTIVE', createdAt: new Date().toISOString(), deactivatedAt: null });
  }
  return { ...person, accountId };
}

/** A token for an existing account with a live session, as sign-in would issue. */
async function tokenFor(accountId: string, personId: string, role: Role = 'PATIENT'): Promise<string> {
  const { id } = await openSession(identity.config, db(), accountId, 'CAC');
  return (await signAccessToken(key, { accountId, personId, role, method: 'CAC', sessionId: id })).token;
}

async function insertGrant(grantor: string, proxy: string, over: Partial<ProxyGrantRow> = {}): Promise<ProxyGrantRow> {
  const row: ProxyGrantRow = { id: randomUUID(), grantorPersonId: grantor, proxyPersonId: proxy, scopes: 'APPOINTMENTS', endsOn: shiftDay(today, 1), createdAt: new Date().toISOString(), revokedAt: null, ...over };
  await store.transaction((tx) => tx.insertGrant(row));
  return row;
}

const proxyFor = async (token: string) => {
  const res = await identity.query(PROXY_FOR, {}, token);
  expect(res.errors).toBeUndefined();
  return res.data.me.proxyFor as { patient: { id: string; name: { given: string } }; relationship: string; scopes: string[]; sensitiveHidden: boolean; endsOn: string | null }[];
};
const careAccess = async (token: string, patientIds: string[], proxy = true) => {
  const res = await fetch(`${identity.server.url}/internal/care-access`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ patientIds, ...(proxy ? { proxy: true } : {}) }),
  });
  return { status: res.status, body: (await res.json()) as { allowed: string[]; proxy?: Record<string, { scopes: string[]; hideSensitive: boolean }> } };
};
const noticesOf = (personId: string) =>
  db().query(`SELECT kind, subject, body FROM identity_notice WHERE person_id = '${personId}' AND kind LIKE 'PROXY_%' ORDER BY created_at, kind`) as Promise<{ kind: string; subject: string; body: string }[]>;

describe('a parent’s link, by the child’s age today', () => {
  it('gives Jane all of Emma (12, nothing hidden) and Liam (15, sensitive records hidden), until the day before each turns 18', async () => {
    const [emma, liam] = await store.peopleByIds([DEMO.emma, DEMO.liam]).then((rows) => [DEMO.emma, DEMO.liam].map((id) => rows.find((r) => r.id === id)!));
    expect(await proxyFor(jane)).toEqual([
      { patient: { id: DEMO.emma, name: { given: 'Emma', family: 'Doe' } }, relationship: 'PARENT_OR_GUARDIAN', scopes: ALL, sensitiveHidden: false, endsOn: shiftDay(emma.dateOfBirth, 18, -1) },
      { patient: { id: DEMO.liam, name: { given: 'Liam', family: 'Doe' } }, relationship: 'PARENT_OR_GUARDIAN', scopes: ALL, sensitiveHidden: true, endsOn: shiftDay(liam.dateOfBirth, 18, -1) },
    ]);
    // The demo's ages, counted from the seed day (today).
    expect(shiftDay(emma.dateOfBirth, 12) <= today && today < shiftDay(emma.dateOfBirth, 13)).toBe(true);
    expect(shiftDay(liam.dateOfBirth, 15) <= today && today < shiftDay(liam.dateOfBirth, 16)).toBe(true);
  });

  it('hides sensitive records from the 13th birthday, and gives nothing from the 18th', async () => {
    const twelve = await newPatient(shiftDay(today, -13, 1));
    const thirteen = await newPatient(shiftDay(today, -13));
    const seventeen = await newPatient(shiftDay(today, -18, 1));
    const eighteen = await newPatient(shiftDay(today, -18));
    for (const child of [twelve, thirteen, seventeen, eighteen]) await store.insertGuardianLink(DEMO.john, child.id, new Date());
    const answer = Object.fromEntries((await proxyFor(john)).map((p) => [p.patient.id, p]));
    expect(answer[twelve.id]).toMatchObject({ scopes: ALL, sensitiveHidden: false });
    expect(answer[thirteen.id]).toMatchObject({ scopes: ALL, sensitiveHidden: true });
    expect(answer[seventeen.id]).toMatchObject({ scopes: ALL, sensitiveHidden: true, endsOn: today });
    expect(answer[eighteen.id]).toBeUndefined();
    expect(Object.keys(answer)).toHaveLength(3);
    // patient(id:) follows: the 18-year-old reads as if unknown.
    expect(codeOf(await identity.query(PATIENT, { id: eighteen.id }, john))).toBe('NOT_FOUND');
    expect((await identity.query(PATIENT, { id: seventeen.id }, john)).data.patient.name.family).toBe(seventeen.familyName);
    const route = await careAccess(john, [twelve.id, thirteen.id, eighteen.id]);
    expect(route.body.proxy).toEqual({ [twelve.id]: { scopes: ALL, hideSensitive: false }, [thirteen.id]: { scopes: ALL, hideSensitive: true } });
  });

  it('lets Jane read Emma’s demographics by id, audited with the role PROXY', async () => {
    const res = await identity.query(PATIENT, { id: DEMO.emma }, jane);
    expect(res.errors).toBeUndefined();
    expect(res.data.patient).toMatchObject({ id: DEMO.emma, dodId: '1000000003', name: { given: 'Emma', family: 'Doe' }, affiliations: [{ organization: 'DOD', status: 'DEPENDENT' }], careTeams: [{ name: 'Primary Care Team Blue' }] });
    const rows = await db().query(`SELECT actor_role AS "role", record_kind AS "kind", outcome FROM audit_event WHERE patient_id = '${DEMO.emma}' AND actor_person_id = '${DEMO.jane}'`);
    expect(rows).toEqual(expect.arrayContaining([{ role: 'PROXY', kind: 'demographics', outcome: 'ALLOWED' }, { role: 'PROXY', kind: 'care_team', outcome: 'ALLOWED' }]));
  });

  it('reads a patient the viewer is no proxy for as NOT_FOUND, like an unknown id; the viewer’s own record answers', async () => {
    expect(codeOf(await identity.query(PATIENT, { id: DEMO.john }, jane))).toBe('NOT_FOUND');
    expect(codeOf(await identity.query(PATIENT, { id: 'pt-nobody' }, jane))).toBe('NOT_FOUND');
    expect(codeOf(await identity.query(PATIENT, { id: DEMO.alex }, jane))).toBe('NOT_FOUND');
    expect(codeOf(await identity.query(PATIENT, { id: DEMO.emma }, john))).toBe('NOT_FOUND');
    expect((await identity.query(PATIENT, { id: DEMO.jane }, jane)).data.patient.name).toEqual({ given: 'Jane', family: 'Doe' });
    const alex = await tokenFor('ac-alex-kim', DEMO.alex, 'PRACTITIONER');
    expect(codeOf(await identity.query(PATIENT, { id: DEMO.jane }, alex))).toBe('FORBIDDEN');
    expect((await identity.query(PROXY_FOR, {}, alex)).data.me.proxyFor).toEqual([]);
  });
});

describe('the internal route’s proxy answer', () => {
  it('names what a patient viewer may do for each asked patient, for no one else, and only when asked', async () => {
    expect(await careAccess(jane, [DEMO.emma, DEMO.liam, DEMO.john, DEMO.jane])).toEqual({
      status: 200,
      body: { allowed: [], proxy: { [DEMO.emma]: { scopes: ALL, hideSensitive: false }, [DEMO.liam]: { scopes: ALL, hideSensitive: true } } },
    });
    expect((await careAccess(jane, [DEMO.emma], false)).body).toEqual({ allowed: [] });
    const alex = await tokenFor('ac-alex-kim', DEMO.alex, 'PRACTITIONER');
    // Alex treats both (Team Blue) and is no one's proxy.
    expect((await careAccess(alex, [DEMO.emma, DEMO.jane])).body).toEqual({ allowed: expect.arrayContaining([DEMO.emma, DEMO.jane]), proxy: {} });
  });
});

describe('an adult’s grant', () => {
  it('gives John the chosen scopes until the end date; Jane sees it among her grants; both are told', async () => {
    const endsOn = shiftDay(today, 0, 30);
    const res = await identity.query(GRANT, { input: { dodId: '1000000002', scopes: ['MESSAGES', 'APPOINTMENTS'], endsOn } }, jane);
    expect(res.errors).toBeUndefined();
    const grant = res.data.grantProxyAccess;
    expect(grant).toMatchObject({ proxyName: { given: 'John', family: 'Roe' }, scopes: ['APPOINTMENTS', 'MESSAGES'], endsOn, revokedAt: null, active: true });

    const forJohn = (await proxyFor(john)).filter((p) => p.patient.id === DEMO.jane);
    expect(forJohn).toEqual([{ patient: { id: DEMO.jane, name: { given: 'Jane', family: 'Doe' } }, relationship: 'CAREGIVER', scopes: ['APPOINTMENTS', 'MESSAGES'], sensitiveHidden: false, endsOn }]);
    expect((await identity.query(PATIENT, { id: DEMO.jane }, john)).data.patient.dateOfBirth).toBe('1990-04-12');
    expect((await careAccess(john, [DEMO.jane])).body.proxy).toEqual({ [DEMO.jane]: { scopes: ['APPOINTMENTS', 'MESSAGES'], hideSensitive: false } });
    expect((await identity.query(PROXY_GRANTS, {}, jane)).data.me.proxyGrants[0]).toEqual(grant);

    expect((await noticesOf(DEMO.jane)).map((n) => n.kind)).toEqual(['PROXY_GRANTED']);
    const [told] = await noticesOf(DEMO.john);
    expect(told.kind).toBe('PROXY_RECEIVED');
    expect(told.subject).toBe('Jane Doe gave you proxy access');
    expect(told.body).toContain(`appointments and secure messages in the patient portal until ${endsOn}`);
    const audit = await db().query(`SELECT outcome, account_id AS "accountId", detail FROM identity_audit_event WHERE event = 'PROXY_GRANTED' AND outcome = 'OK'`);
    expect(audit).toEqual([{ outcome: 'OK', accountId: 'ac-jane-doe', detail: `${grant.id} to ${DEMO.john}` }]);

    // A second grant to the same person while one is live.
    expect(codeOf(await identity.query(GRANT, { input: { dodId: '1000000002', scopes: ['RESULTS'], endsOn } }, jane))).toBe('CONFLICT');
  });

  it('revoked by another reads NOT_FOUND; revoked by Jane it ends at once, once, and both are told', async () => {
    const grant = (await identity.query(PROXY_GRANTS, {}, jane)).data.me.proxyGrants.find((g: any) => g.active);
    expect(codeOf(await identity.query(REVOKE, { id: grant.id }, john))).toBe('NOT_FOUND');
    expect(codeOf(await identity.query(REVOKE, { id: randomUUID() }, jane))).toBe('NOT_FOUND');

    const res = await identity.query(REVOKE, { id: grant.id }, jane);
    expect(res.errors).toBeUndefined();
    expect(res.data.revokeProxyAccess).toMatchObject({ id: grant.id, active: false });
    expect(res.data.revokeProxyAccess.revokedAt).not.toBeNull();
    expect((await proxyFor(john)).map((p) => p.patient.id)).not.toContain(DEMO.jane);
    expect(codeOf(await identity.query(PATIENT, { id: DEMO.jane }, john))).toBe('NOT_FOUND');
    expect((await careAccess(john, [DEMO.jane])).body.proxy).toEqual({});

    // Again: nothing changes, no one is told twice.
    expect((await identity.query(REVOKE, { id: grant.id }, jane)).data.revokeProxyAccess.revokedAt).toBe(res.data.revokeProxyAccess.revokedAt);
    expect((await noticesOf(DEMO.jane)).map((n) => n.kind).sort()).toEqual(['PROXY_GRANTED', 'PROXY_REVOKED']);
    expect((await noticesOf(DEMO.john)).map((n) => n.kind).sort()).toEqual(['PROXY_ENDED', 'PROXY_RECEIVED']);
    const revokes = await db().query(`SELECT outcome, detail FROM identity_audit_event WHERE event = 'PROXY_REVOKED' ORDER BY occurred_at`);
    expect(revokes.map((r: { outcome: string }) => r.outcome)).toEqual(['NOT_FOUND', 'NOT_FOUND', 'OK']);
    // On Jane's own access log: her grant, and John's refused attempt to end it.
    const onJane = await db().query(`SELECT actor_person_id AS "actor", actor_role AS "role", action, outcome FROM audit_event WHERE patient_id = '${DEMO.jane}' AND record_kind = 'proxy_grant'`);
    expect(onJane).toEqual(
      expect.arrayContaining([
        { actor: DEMO.jane, role: 'PATIENT', action: 'create', outcome: 'ALLOWED' },
        { actor: DEMO.john, role: 'PATIENT', action: 'update', outcome: 'DENIED' },
        { actor: DEMO.jane, role: 'PATIENT', action: 'update', outcome: 'ALLOWED' },
      ]),
    );
    const [grantsList] = (await identity.query(PROXY_GRANTS, {}, jane)).data.me.proxyGrants;
    expect(grantsList).toMatchObject({ id: grant.id, active: false });
  });

  it('gives nothing once ended or revoked; a grant ending today still counts', async () => {
    const grantor = await newPatient('1970-01-01');
    const other = await newPatient('1971-01-01');
    const third = await newPatient('1972-01-01');
    await insertGrant(grantor.id, DEMO.john, { endsOn: shiftDay(today, 0, -1) });
    await insertGrant(other.id, DEMO.john, { endsOn: shiftDay(today, 1), revokedAt: new Date().toISOString() });
    await insertGrant(third.id, DEMO.john, { endsOn: today, scopes: 'RESULTS NOTES' });
    const route = await careAccess(john, [grantor.id, other.id, third.id]);
    expect(route.body.proxy).toEqual({ [third.id]: { scopes: ['RESULTS', 'NOTES'], hideSensitive: false } });
    const ids = (await proxyFor(john)).map((p) => p.patient.id);
    expect(ids).toContain(third.id);
    expect(ids).not.toContain(grantor.id);
    expect(ids).not.toContain(other.id);
  });
});

describe('grant checks', () => {
  const grant = (token: string, input: Record<string, unknown>) => identity.query(GRANT, { input: { dodId: '1000000002', scopes: ['APPOINTMENTS'], endsOn: shiftDay(today, 1), ...input } }, token);
  const refusal = (res: Awaited<ReturnType<typeof grant>>) => ({ code: codeOf(res), field: res.errors?.[0]?.extensions?.field, message: res.errors?.[0]?.message });

  it('refuses no scope, an end not after today or past five years ahead', async () => {
    expect(refusal(await grant(jane, { scopes: [] }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'scopes' });
    expect(refusal(await grant(jane, { endsOn: today }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'endsOn' });
    expect(refusal(await grant(jane, { endsOn: shiftDay(today, 5, 1) }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'endsOn' });
    expect(codeOf(await grant(jane, { scopes: ['NOT_A_SCOPE'] }))).toBe('BAD_USER_INPUT');
  });

  it('reads an unknown DoD ID, a practitioner’s, a malformed one and the viewer’s own alike', async () => {
    const answers = await Promise.all(['9999999999', '2000000001', 'abc', '1000000001'].map(async (dodId) => refusal(await grant(jane, { dodId }))));
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toMatchObject({ code: 'BAD_USER_INPUT', field: 'dodId' });
    const refused = await db().query(`SELECT COUNT(*) AS n FROM identity_audit_event WHERE event = 'PROXY_GRANTED' AND outcome = 'BAD_USER_INPUT'`);
    expect(Number(refused[0].n)).toBeGreaterThanOrEqual(4);
  });

  it('refuses a minor and care staff (FORBIDDEN)', async () => {
    const minor = await newPatient(shiftDay(today, -18, 1), true);
    expect(codeOf(await grant(await tokenFor(minor.accountId, minor.id), {}))).toBe('FORBIDDEN');
    expect(codeOf(await grant(await tokenFor('ac-alex-kim', DEMO.alex, 'PRACTITIONER'), {}))).toBe('FORBIDDEN');
    const adult = await newPatient(shiftDay(today, -18), true);
    const res = await grant(await tokenFor(adult.accountId, adult.id), {});
    expect(res.errors).toBeUndefined();
  });

  it(`bounds a grantor to ${MAX_LIVE_GRANTS} live grants and ${MAX_GRANTS_PER_DAY} grants a day`, async () => {
    const grantor = await newPatient('1960-01-01', true);
    const token = await tokenFor(grantor.accountId, grantor.id);
    for (let i = 0; i < MAX_LIVE_GRANTS; i++) await insertGrant(grantor.id, (await newPatient('1980-01-01')).id);
    const proxy = await newPatient('1981-01-01');
    expect(codeOf(await grant(token, { dodId: proxy.dodId }))).toBe('CONFLICT');
    for (let i = MAX_LIVE_GRANTS; i < MAX_GRANTS_PER_DAY; i++) await insertGrant(grantor.id, (await newPatient('1980-01-01')).id, { revokedAt: new Date().toISOString() });
    await db().query(`UPDATE proxy_grant SET revoked_at = '${new Date().toISOString()}' WHERE grantor_person_id = '${grantor.id}'`);
    const limited = await grant(token, { dodId: proxy.dodId });
    expect(codeOf(limited)).toBe('RATE_LIMITED');
    expect(limited.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(0);
  });
});

describe('a child who turns 18', () => {
  const DAY = 86_400_000;
  it('loses the parent’s access on the birthday; the adult’s own grant gives back exactly the scopes granted', async () => {
    const parent = await newPatient('1975-05-05', true);
    const child = await newPatient(shiftDay(today, -18, 1), true);
    await store.insertGuardianLink(parent.id, child.id, new Date());
    const asParent = await tokenFor(parent.accountId, parent.id);
    // The day before the birthday: every scope, sensitive records hidden (17), ending today.
    expect(await proxyFor(asParent)).toEqual([
      { patient: { id: child.id, name: { given: 'Test', family: child.familyName } }, relationship: 'PARENT_OR_GUARDIAN', scopes: ALL, sensitiveHidden: true, endsOn: today },
    ]);

    // Identity's clock moves to the birthday; sessions opened on it (a day's idle time would end the earlier ones).
    identity.clock.advance(DAY);
    try {
      const birthday = dayOf(identity.clock.now());
      expect(birthday).toBe(shiftDay(today, 0, 1));
      const sessions = createSessionService(identity.config, db(), identity.clock.now);
      const tokenOn = async (accountId: string, personId: string) => {
        const { id } = await sessions.open(accountId, 'CAC');
        return (await signAccessToken(key, { accountId, personId, role: 'PATIENT', method: 'CAC', sessionId: id })).token;
      };
      const parentToday = await tokenOn(parent.accountId, parent.id);
      const adult = await tokenOn(child.accountId, child.id);
      try {
        expect(await proxyFor(parentToday)).toEqual([]);
        expect(codeOf(await identity.query(PATIENT, { id: child.id }, parentToday))).toBe('NOT_FOUND');
        expect((await careAccess(parentToday, [child.id])).body.proxy).toEqual({});

        // The adult grants the parent appointments and results: those two, sensitive records included, nothing more.
        const endsOn = shiftDay(birthday, 1);
        const res = await identity.query(GRANT, { input: { dodId: parent.dodId, scopes: ['RESULTS', 'APPOINTMENTS'], endsOn } }, adult);
        expect(res.errors).toBeUndefined();
        expect(res.data.grantProxyAccess).toMatchObject({ scopes: ['APPOINTMENTS', 'RESULTS'], endsOn, active: true });
        expect(await proxyFor(parentToday)).toEqual([
          { patient: { id: child.id, name: { given: 'Test', family: child.familyName } }, relationship: 'CAREGIVER', scopes: ['APPOINTMENTS', 'RESULTS'], sensitiveHidden: false, endsOn },
        ]);
        expect((await careAccess(parentToday, [child.id])).body.proxy).toEqual({ [child.id]: { scopes: ['APPOINTMENTS', 'RESULTS'], hideSensitive: false } });
        expect((await identity.query(PATIENT, { id: child.id }, parentToday)).data.patient.id).toBe(child.id);
      } finally {
        await sessions.close();
      }
    } finally {
      identity.clock.advance(-DAY);
    }
  });
});
