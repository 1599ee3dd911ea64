import { randomUUID } from 'node:crypto';
import { DEMO } from '@portal/demo';
import { certificatePem, signChallenge, type Issued } from './smartcard/pki';
import { hashPassword } from './services/passwords';
import { removeTestDir } from '@portal/kit/testing';
import { codeOf, createTestPki, ME, SIGN_IN_WITH_DS_LOGON, startIdentity, type TestIdentity, type TestPki } from './testing';

const CREATE = `mutation($input: CreateDsLogonAccountInput!) { createDsLogonAccount(input: $input) { id username status signInMethods } }`;
const REGISTER = `mutation($input: RegisterPivCardInput!) { registerPivCard(input: $input) { id uuid registeredAt } }`;
const ADD = `mutation($input: AddDsLogonCredentialInput!) { addDsLogonCredential(input: $input) { id username status signInMethods } }`;
const DEACTIVATE = `mutation($accountId: ID!) { deactivateDsLogonAccount(accountId: $accountId) { id status } }`;

let pki: TestPki;
let identity: TestIdentity;

beforeAll(async () => {
  pki = await createTestPki();
  identity = await startIdentity({ pki });
});
afterAll(async () => {
  try {
    await identity?.stop();
  } finally {
    removeTestDir(pki?.dir);
  }
});

let people = 0;
/** A patient of the registry with no account yet. */
async function newPerson(given = 'Pat', family = `Person${++people}`) {
  const dodId = String(1100000000 + Math.floor(Math.random() * 89999999));
  const id = `pt-${dodId}`;
  await identity.server.database.dataSource.query(
    `INSERT INTO person (id, kind, dod_id, given_name, family_name, date_of_birth) VALUES ('${id}', 'PATIENT', '${dodId}', '${given}', '${family}', '1988-07-14')`,
  );
  return { id, dodId, firstName: given, lastName: family, dateOfBirth: '1988-07-14' };
}

const accountInput = (p: Awaited<ReturnType<typeof newPerson>>, username: string, password = 'Sturdy-Password-42') => ({
  personIdentifier: p.dodId,
  firstName: p.firstName,
  lastName: p.lastName,
  dateOfBirth: p.dateOfBirth,
  username,
  password,
});

async function registration(card: Issued, details: Record<string, string>) {
  const challenge = await identity.challenge();
  return {
    certificate: certificatePem(card),
    challenge,
    signature: signChallenge(card.keys, challenge),
    ...details,
  };
}

const JOHN = { firstName: 'John', lastName: 'Roe', dateOfBirth: '1982-09-03', personIdentifier: '1000000002', dsLogonUsername: 'john.roe', dsLogonPassword: 'Demo-Password-2' };

describe('createDsLogonAccount', () => {
  it('creates an active account for a known person, who can then sign in with it', async () => {
    const p = await newPerson();
    const res = await identity.query(CREATE, { input: accountInput(p, `  New.User.${people} `) });
    expect(res.errors).toBeUndefined();
    expect(res.data.createDsLogonAccount).toMatchObject({ username: `new.user.${people}`, status: 'ACTIVE', signInMethods: ['DS_LOGON', 'CAC'] });
    const token = await identity.signIn(`new.user.${people}`, 'Sturdy-Password-42');
    expect((await identity.query(ME, {}, token)).data.me.patient).toEqual({ id: p.id });
  });

  it('matches names case-insensitively', async () => {
    const p = await newPerson('Maria', 'Delgado');
    const res = await identity.query(CREATE, { input: { ...accountInput(p, 'maria.d'), firstName: ' MARIA', lastName: 'delgado ' } });
    expect(codeOf(res)).toBe('OK');
  });

  it('answers any mismatch of DoD ID, name or birth date with one IDENTITY_NOT_VERIFIED that does not say which', async () => {
    const p = await newPerson();
    const good = accountInput(p, 'mismatch.user');
    const variants = [
      { ...good, personIdentifier: '1999999999' },
      { ...good, firstName: 'Someone' },
      { ...good, lastName: 'Else' },
      { ...good, dateOfBirth: '1988-07-15' },
    ];
    const results = [];
    for (const input of variants) results.push(await identity.query(CREATE, { input }));
    expect(results.map(codeOf)).toEqual(['IDENTITY_NOT_VERIFIED', 'IDENTITY_NOT_VERIFIED', 'IDENTITY_NOT_VERIFIED', 'IDENTITY_NOT_VERIFIED']);
    expect(new Set(results.map((r) => r.errors?.[0].message)).size).toBe(1);
    expect(results.every((r) => r.data === null)).toBe(true);
  });

  it('limits repeated mismatches for one DoD ID (RATE_LIMITED), even with the right details then', async () => {
    const p = await newPerson();
    const wrong = { ...accountInput(p, 'guess.user'), dateOfBirth: '1900-01-01' };
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) codes.push(codeOf(await identity.query(CREATE, { input: wrong })));
    expect(codes).toEqual(['IDENTITY_NOT_VERIFIED', 'IDENTITY_NOT_VERIFIED', 'IDENTITY_NOT_VERIFIED', 'IDENTITY_NOT_VERIFIED', 'RATE_LIMITED']);
    expect(codeOf(await identity.query(CREATE, { input: accountInput(p, 'guess.user') }))).toBe('RATE_LIMITED');
  });

  it('refuses a second active account for the same person with CONFLICT', async () => {
    const res = await identity.query(CREATE, {
      input: { personIdentifier: '1000000001', firstName: 'Jane', lastName: 'Doe', dateOfBirth: '1990-04-12', username: 'jane.second', password: 'Sturdy-Password-42' },
    });
    expect(codeOf(res)).toBe('CONFLICT');
  });

  it('refuses a username already taken with CONFLICT, even when only the case differs', async () => {
    const p = await newPerson();
    const res = await identity.query(CREATE, { input: accountInput(p, 'JANE.DOE') });
    expect(res.errors?.[0].extensions).toEqual({ code: 'CONFLICT', field: 'username' });
  });

  it('enforces the password policy and the username format with BAD_USER_INPUT saying what is wrong', async () => {
    const p = await newPerson();
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ password: 'Sh0rt-pass' }, 'password', /12 to 128 characters/],
      [{ password: 'onlylowercaseletters' }, 'password', /at least three of/],
      [{ password: 'Contains-Policy.User-1', username: 'policy.user' }, 'password', /must not contain the username/],
      [{ username: 'no spaces allowed' }, 'username', /letters, digits, dots/],
      [{ personIdentifier: '12345' }, 'personIdentifier', /10-digit DoD ID/],
      [{ firstName: '  ' }, 'firstName', /first name/],
    ];
    for (const [change, field, message] of cases) {
      const res = await identity.query(CREATE, { input: { ...accountInput(p, 'policy.user'), ...change } });
      expect(res.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field });
      expect(res.errors?.[0].message).toMatch(message);
    }
  });

  it('refuses to add a username and password to an account that signs in by card: the card must sign in and add them', async () => {
    const p = await newPerson('Cora', 'Cardholder');
    const card = await pki.card({ commonName: `CARDHOLDER.CORA.${p.dodId}` });
    const cac = await identity.signInWithCard(card);
    const accountId = cac.data.signInWithSmartCard.account.id;
    const anonymous = await identity.query(CREATE, { input: accountInput(p, 'cora.c') });
    expect(codeOf(anonymous)).toBe('CONFLICT');
    expect(anonymous.errors?.[0].message).toMatch(/addDsLogonCredential/);
    expect(codeOf(await identity.query(SIGN_IN_WITH_DS_LOGON, { username: 'cora.c', password: 'Sturdy-Password-42' }))).toBe('INVALID_CREDENTIALS');

    const token = cac.data.signInWithSmartCard.accessToken;
    const added = await identity.query(ADD, { input: { username: 'Cora.C', password: 'Sturdy-Password-42' } }, token);
    expect(added.errors).toBeUndefined();
    expect(added.data.addDsLogonCredential).toEqual({ id: accountId, username: 'cora.c', status: 'ACTIVE', signInMethods: ['DS_LOGON', 'CAC'] });
    const dsLogon = await identity.signIn('cora.c', 'Sturdy-Password-42');
    expect((await identity.query(ME, {}, dsLogon)).data.me.account.id).toBe(accountId);
    // A DS Logon session cannot add another; neither can the card once there is one.
    expect(codeOf(await identity.query(ADD, { input: { username: 'cora.d', password: 'Sturdy-Password-42' } }, dsLogon))).toBe('FORBIDDEN');
    expect(codeOf(await identity.query(ADD, { input: { username: 'cora.d', password: 'Sturdy-Password-42' } }, token))).toBe('CONFLICT');
    expect(codeOf(await identity.query(ADD, { input: { username: 'cora.d', password: 'Sturdy-Password-42' } }))).toBe('UNAUTHENTICATED');

    // Audited in the change's transaction, and the holder is told.
    const db = identity.server.database.dataSource;
    const audit = await db.query(`SELECT event, method, outcome FROM identity_audit_event WHERE account_id = '${accountId}' AND event = 'CREDENTIAL_ADDED' ORDER BY occurred_at`);
    expect(audit).toEqual([
      { event: 'CREDENTIAL_ADDED', method: 'CAC', outcome: 'OK' },
      { event: 'CREDENTIAL_ADDED', method: 'DS_LOGON', outcome: 'FORBIDDEN' },
      { event: 'CREDENTIAL_ADDED', method: 'CAC', outcome: 'CONFLICT' },
    ]);
    const notices = await db.query(`SELECT person_id AS "personId", kind FROM identity_notice WHERE account_id = '${accountId}'`);
    expect(notices).toEqual([{ personId: p.id, kind: 'DS_LOGON_ADDED' }]);
  });

  it('never gives care staff a DS Logon: not by the anonymous sign-up, not from their CAC session', async () => {
    const alexDetails = { personIdentifier: '2000000001', firstName: 'Alex', lastName: 'Kim', dateOfBirth: '1978-02-20', username: 'alex.kim', password: 'Sturdy-Password-42' };
    const res = await identity.query(CREATE, { input: alexDetails });
    expect(codeOf(res)).toBe('FORBIDDEN');
    const alexCard = await pki.card({ commonName: 'KIM.ALEX.2000000001' });
    const cac = await identity.signInWithCard(alexCard);
    const token = cac.data.signInWithSmartCard.accessToken;
    expect(codeOf(await identity.query(ADD, { input: { username: 'alex.kim', password: 'Sturdy-Password-42' } }, token))).toBe('FORBIDDEN');
    const [account] = await identity.server.database.dataSource.query(`SELECT username, password_hash AS "passwordHash" FROM account WHERE id = 'ac-alex-kim'`);
    expect(account).toEqual({ username: null, passwordHash: null });
  });
});

describe('PIV cards', () => {
  let johnPiv: Issued;
  let uuid: string;
  beforeAll(async () => {
    uuid = randomUUID();
    johnPiv = await pki.card({ commonName: 'John B Roe (PIV Authentication)', uuid });
  });

  it('refuses an unregistered card with CARD_NOT_REGISTERED', async () => {
    expect(codeOf(await identity.signInWithCard(johnPiv))).toBe('CARD_NOT_REGISTERED');
  });

  it('answers wrong details, a wrong password or an unknown username alike with IDENTITY_NOT_VERIFIED, registering nothing', async () => {
    const variants = [
      { ...JOHN, dsLogonPassword: 'Wrong-Password-2' },
      { ...JOHN, dsLogonUsername: 'no.such.user' },
      { ...JOHN, firstName: 'Jon' },
      { ...JOHN, dateOfBirth: '1982-09-04' },
      { ...JOHN, personIdentifier: '1000000001' },
      // Jane's username and password, with John's details.
      { ...JOHN, dsLogonUsername: 'jane.doe', dsLogonPassword: 'Demo-Password-1' },
    ];
    const results = [];
    for (const details of variants) results.push(await identity.query(REGISTER, { input: await registration(johnPiv, details) }));
    expect(results.map(codeOf)).toEqual(Array(variants.length).fill('IDENTITY_NOT_VERIFIED'));
    expect(new Set(results.map((r) => r.errors?.[0].message)).size).toBe(1);
    // john.roe has four failures in a row now; a successful registration below clears them.
    expect(codeOf(await identity.signInWithCard(johnPiv))).toBe('CARD_NOT_REGISTERED');
  });

  it('checks the card like a sign-in: signature, challenge, certificate', async () => {
    const input = await registration(johnPiv, JOHN);
    const badSignature = await identity.query(REGISTER, { input: { ...input, signature: signChallenge(johnPiv.keys, 'another challenge') } });
    expect(codeOf(badSignature)).toBe('SIGNATURE_INVALID');
    expect(codeOf(await identity.query(REGISTER, { input }))).toBe('CHALLENGE_INVALID');
    const day = 86_400_000;
    const expired = await pki.card({ commonName: 'PIV', uuid: randomUUID(), notBefore: new Date(Date.now() - 9 * day), notAfter: new Date(Date.now() - day) });
    expect(codeOf(await identity.query(REGISTER, { input: await registration(expired, JOHN) }))).toBe('CERTIFICATE_EXPIRED');
  });

  it('refuses to register a CAC: it needs no registration', async () => {
    const cac = await pki.card({ commonName: 'ROE.JOHN.B.1000000002' });
    const res = await identity.query(REGISTER, { input: await registration(cac, JOHN) });
    expect(res.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'certificate' });
  });

  it('registers John’s card to his DS Logon account; it then signs him in as PIV', async () => {
    const input = await registration(johnPiv, { ...JOHN, firstName: 'JOHN', dsLogonUsername: 'John.Roe' });
    const t0 = Date.now();
    const res = await identity.query(REGISTER, { input });
    const t1 = Date.now();
    expect(res.errors).toBeUndefined();
    expect(res.data.registerPivCard.uuid).toBe(uuid);
    expect(Date.parse(res.data.registerPivCard.registeredAt)).toBeGreaterThanOrEqual(t0);
    expect(Date.parse(res.data.registerPivCard.registeredAt)).toBeLessThanOrEqual(t1);
    const signIn = await identity.signInWithCard(johnPiv);
    expect(signIn.data.signInWithSmartCard.account).toEqual({ id: 'ac-john-roe', status: 'ACTIVE' });
    const me = (await identity.query(ME, {}, signIn.data.signInWithSmartCard.accessToken)).data.me;
    expect(me.session.method).toBe('PIV');
    expect(me.patient).toEqual({ id: DEMO.john });
    expect(me.account.signInMethods).toEqual(['DS_LOGON', 'CAC', 'PIV']);
    // Registering again to the same account changes nothing.
    const again = await identity.query(REGISTER, { input: await registration(johnPiv, JOHN) });
    expect(again.data.registerPivCard.id).toBe(res.data.registerPivCard.id);
  });

  it('will not move a card registered to someone’s active account to another account (CONFLICT)', async () => {
    const jane = { firstName: 'Jane', lastName: 'Doe', dateOfBirth: '1990-04-12', personIdentifier: '1000000001', dsLogonUsername: 'jane.doe', dsLogonPassword: 'Demo-Password-1' };
    expect(codeOf(await identity.query(REGISTER, { input: await registration(johnPiv, jane) }))).toBe('CONFLICT');
  });

  it('stops the card when its account is deactivated, until a new account is created and the card registered again: then the same patient', async () => {
    const john = await identity.signIn('john.roe', 'Demo-Password-2');
    const deactivated = await identity.query(DEACTIVATE, { accountId: 'ac-john-roe' }, john);
    expect(deactivated.data.deactivateDsLogonAccount).toEqual({ id: 'ac-john-roe', status: 'DEACTIVATED' });
    // Every session of the account ended at once, the one that asked included.
    const after = await identity.query(ME, {}, john);
    expect(after.status).toBe(401);
    expect(after.errors?.[0]).toMatchObject({ message: 'Your session has ended; sign in again.', extensions: { code: 'UNAUTHENTICATED' } });
    expect(codeOf(await identity.signInWithCard(johnPiv))).toBe('ACCOUNT_DEACTIVATED');
    expect(codeOf(await identity.query('mutation { signInWithDsLogon(input: { username: "john.roe", password: "Demo-Password-2" }) { accessToken } }'))).toBe(
      'ACCOUNT_DEACTIVATED',
    );
    // The old account cannot register the card again.
    expect(codeOf(await identity.query(REGISTER, { input: await registration(johnPiv, JOHN) }))).toBe('ACCOUNT_DEACTIVATED');

    const created = await identity.query(CREATE, {
      input: { personIdentifier: '1000000002', firstName: 'John', lastName: 'Roe', dateOfBirth: '1982-09-03', username: 'john.roe.2', password: 'Brand-New-Password-7' },
    });
    const newId = created.data.createDsLogonAccount.id;
    expect(newId).not.toBe('ac-john-roe');
    expect(codeOf(await identity.signInWithCard(johnPiv))).toBe('ACCOUNT_DEACTIVATED');
    const again = await identity.query(REGISTER, { input: await registration(johnPiv, { ...JOHN, dsLogonUsername: 'john.roe.2', dsLogonPassword: 'Brand-New-Password-7' }) });
    expect(again.data.registerPivCard.uuid).toBe(uuid);
    const signIn = await identity.signInWithCard(johnPiv);
    expect(signIn.data.signInWithSmartCard.account).toEqual({ id: newId, status: 'ACTIVE' });
    const registered = await identity.server.database.dataSource.query(
      `SELECT account_id AS "accountId", detail FROM identity_audit_event WHERE event = 'CARD_REGISTERED' AND outcome = 'OK' ORDER BY occurred_at`,
    );
    expect(registered).toEqual([{ accountId: 'ac-john-roe', detail: uuid }, { accountId: newId, detail: uuid }]);
    expect(await identity.server.database.dataSource.query(`SELECT kind FROM identity_notice WHERE account_id = '${newId}' ORDER BY created_at, kind`)).toEqual([
      { kind: 'DS_LOGON_ADDED' },
      { kind: 'PIV_REGISTERED' },
    ]);
    const me = (await identity.query(ME, {}, signIn.data.signInWithSmartCard.accessToken)).data.me;
    expect(me.patient).toEqual({ id: DEMO.john });
  });
});

describe('deactivateDsLogonAccount', () => {
  it('needs a sign-in', async () => {
    expect(codeOf(await identity.query(DEACTIVATE, { accountId: 'ac-jane-doe' }))).toBe('UNAUTHENTICATED');
  });

  it('refuses an id that names no account with BAD_USER_INPUT naming accountId, reading and auditing nothing', async () => {
    const db = identity.server.database.dataSource;
    const jane = await identity.signIn('jane.doe', 'Demo-Password-1');
    const audited = async () => Number((await db.query(`SELECT COUNT(*) AS "n" FROM identity_audit_event`))[0].n);
    const before = await audited();
    for (const accountId of ['ac-jane-doe\u0000', 'a'.repeat(65), 'ac jane', "ac-jane'--", '../ac-jane-doe', '-ac', '']) {
      const res = await identity.query(DEACTIVATE, { accountId }, jane);
      expect([accountId, res.errors?.[0].extensions]).toEqual([accountId, { code: 'BAD_USER_INPUT', field: 'accountId' }]);
    }
    expect(await audited()).toBe(before);
    // Jane's own account is untouched and her session still works.
    expect((await identity.query(ME, {}, jane)).data.me.account).toMatchObject({ id: 'ac-jane-doe', status: 'ACTIVE' });
  });

  it('refuses another patient’s account with FORBIDDEN and changes nothing', async () => {
    const p = await newPerson();
    await identity.query(CREATE, { input: accountInput(p, `victim.${people}`) });
    const jane = await identity.signIn('jane.doe', 'Demo-Password-1');
    const [victim] = await identity.server.database.dataSource.query(`SELECT id FROM account WHERE username = 'victim.${people}'`);
    expect(codeOf(await identity.query(DEACTIVATE, { accountId: victim.id }, jane))).toBe('FORBIDDEN');
    expect(codeOf(await identity.query(DEACTIVATE, { accountId: 'no-such-account' }, jane))).toBe('FORBIDDEN');
    // The victim's account is untouched: it still signs in, as itself.
    const token = await identity.signIn(`victim.${people}`, 'Sturdy-Password-42');
    expect((await identity.query(ME, {}, token)).data.me.account).toMatchObject({ id: victim.id, status: 'ACTIVE' });
  });

  it('lets an administrator deactivate any DS Logon account, ending all its sessions at once', async () => {
    const db = identity.server.database.dataSource;
    await db.query(`INSERT INTO person (id, kind, dod_id, given_name, family_name, date_of_birth, specialty) VALUES ('pr-admin', 'PRACTITIONER', '2000000099', 'Ada', 'Admin', '1975-05-05', 'ADMINISTRATOR')`);
    // A legacy DS Logon of an administrator: it no longer signs in (staff sign in by card), the CAC does.
    await db.getRepository('Account').insert({ id: 'ac-admin', personId: 'pr-admin', username: 'ada.admin', passwordHash: await hashPassword('Admin-Password-99'), role: 'ADMIN', status: 'ACTIVE', createdAt: new Date().toISOString(), deactivatedAt: null });
    expect(codeOf(await identity.query(SIGN_IN_WITH_DS_LOGON, { username: 'ada.admin', password: 'Admin-Password-99' }))).toBe('FORBIDDEN');
    const adminCard = await identity.signInWithCard(await pki.card({ commonName: 'ADMIN.ADA.2000000099' }));
    const admin = adminCard.data.signInWithSmartCard.accessToken;
    const p = await newPerson();
    await identity.query(CREATE, { input: accountInput(p, `two.sessions.${people}`) });
    const first = await identity.signIn(`two.sessions.${people}`, 'Sturdy-Password-42');
    const second = await identity.signIn(`two.sessions.${people}`, 'Sturdy-Password-42');
    const accountId = (await identity.query(ME, {}, first)).data.me.account.id;
    const res = await identity.query(DEACTIVATE, { accountId }, admin);
    expect(res.data.deactivateDsLogonAccount).toEqual({ id: accountId, status: 'DEACTIVATED' });
    const audit = await db.query(
      `SELECT event, outcome, actor_account_id AS "actor", actor_role AS "role", detail FROM identity_audit_event WHERE account_id = '${accountId}' AND event IN ('ACCOUNT_DEACTIVATED', 'CREDENTIAL_REMOVED') ORDER BY event`,
    );
    expect(audit).toEqual([
      { event: 'ACCOUNT_DEACTIVATED', outcome: 'OK', actor: 'ac-admin', role: 'ADMIN', detail: null },
      { event: 'CREDENTIAL_REMOVED', outcome: 'OK', actor: 'ac-admin', role: 'ADMIN', detail: 'DS_LOGON' },
    ]);
    expect(await db.query(`SELECT kind FROM identity_notice WHERE account_id = '${accountId}' ORDER BY created_at, kind`)).toEqual([{ kind: 'DS_LOGON_ADDED' }, { kind: 'DS_LOGON_REMOVED' }]);
    for (const token of [first, second]) expect(codeOf(await identity.query(ME, {}, token))).toBe('UNAUTHENTICATED');
    expect(codeOf(await identity.query(DEACTIVATE, { accountId: 'no-such-account' }, admin))).toBe('NOT_FOUND');
    expect(codeOf(await identity.query(DEACTIVATE, { accountId: 'ac-alex-kim' }, admin))).toBe('BAD_USER_INPUT');
  });
});
