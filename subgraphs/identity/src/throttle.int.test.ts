/**
 * Attempt counting under concurrency, the progressive delay, and identity's
 * audit of sign-ins, on the test's database (SQLite, or PostgreSQL with
 * TEST_DATABASE_URL). Attempts race over HTTP like clients do.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { IdentityStore } from './db/store';
import { hashPassword } from './services/passwords';
import { createServiceClient } from './services/serviceClients';
import { delayAfter, MAX_DELAY_SECONDS, Throttle } from './services/throttle';
import { certificatePem, signChallenge } from './smartcard/pki';
import { codeOf, createTestPki, SIGN_IN_WITH_DS_LOGON, startIdentity, type TestIdentity, type TestPki } from './testing';

const CREATE = `mutation($input: CreateDsLogonAccountInput!) { createDsLogonAccount(input: $input) { id } }`;
const REGISTER = `mutation($input: RegisterPivCardInput!) { registerPivCard(input: $input) { id } }`;

let pki: TestPki;
let identity: TestIdentity;

beforeAll(async () => {
  pki = await createTestPki(fs.mkdtempSync(path.join(os.tmpdir(), 'identity-throttle-')));
  identity = await startIdentity({ pki });
  // Delays are measured against identity's clock: stopped, they do not depend on how fast the machine runs.
  identity.clock.freeze();
});
afterAll(async () => {
  await identity?.stop();
  fs.rmSync(path.dirname(pki.caFile), { recursive: true, force: true });
});

let people = 0;
/** A patient with a DS Logon account of their own, and a unique username. */
async function patientWithAccount(password = 'Right-Password-9') {
  const n = ++people;
  const dodId = String(1300000000 + Math.floor(Math.random() * 89999999));
  const id = `pt-${dodId}`;
  const db = identity.server.database.dataSource;
  await db.query(`INSERT INTO person (id, kind, dod_id, given_name, family_name, date_of_birth) VALUES ('${id}', 'PATIENT', '${dodId}', 'Race', 'Person${n}', '1991-01-0${(n % 9) + 1}')`);
  const accountId = `ac-${randomUUID()}`;
  const username = `race.${n}.${dodId}`;
  await db.getRepository('Account').insert({ id: accountId, personId: id, username, passwordHash: await hashPassword(password), role: 'PATIENT', status: 'ACTIVE', createdAt: new Date().toISOString(), deactivatedAt: null });
  return { id, dodId, accountId, username, password, firstName: 'Race', lastName: `Person${n}`, dateOfBirth: `1991-01-0${(n % 9) + 1}` };
}

const signIn = (username: string, password: string) => identity.query(SIGN_IN_WITH_DS_LOGON, { username, password });

async function auditOf(accountId: string, event: string): Promise<{ outcome: string; method: string | null; clientAddress: string | null }[]> {
  return identity.server.database.dataSource.query(
    `SELECT outcome, method, client_address AS "clientAddress" FROM identity_audit_event WHERE account_id = $1 AND event = $2 ORDER BY occurred_at`.replace(
      /\$(\d)/g,
      identity.server.database.dataSource.options.type === 'postgres' ? '$$$1' : '?',
    ),
    [accountId, event],
  );
}

describe('the delay policy', () => {
  it('lets five failures in a row through, then waits 5 s, doubling, never more than 15 minutes', () => {
    expect([1, 2, 3, 4].map(delayAfter)).toEqual([0, 0, 0, 0]);
    expect([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 1000].map(delayAfter)).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 900, 900, 900]);
    expect(MAX_DELAY_SECONDS).toBe(900);
  });
});

describe('DS Logon attempts racing', () => {
  it('checks at most five of 20 wrong passwords sent at once; the right one after them is refused until the delay ends', async () => {
    const p = await patientWithAccount();
    const answers = await Promise.all(Array.from({ length: 20 }, () => signIn(p.username, 'Wrong-Password-1')));
    const codes = answers.map(codeOf);
    // Checked: four INVALID_CREDENTIALS and the fifth, which set the delay, answered ACCOUNT_LOCKED.
    expect(codes.filter((c) => c === 'INVALID_CREDENTIALS')).toHaveLength(4);
    expect(codes.filter((c) => c === 'ACCOUNT_LOCKED')).toHaveLength(16);
    // Every password actually checked is an audit row saying so: exactly five.
    expect((await auditOf(p.accountId, 'SIGN_IN')).filter((r) => r.outcome === 'INVALID_CREDENTIALS')).toHaveLength(5);
    const locked = answers.find((a) => codeOf(a) === 'ACCOUNT_LOCKED')!;
    expect(locked.errors?.[0].extensions).toEqual({ code: 'ACCOUNT_LOCKED', retryAfter: 5 });

    const right = await signIn(p.username, p.password);
    expect(codeOf(right)).toBe('ACCOUNT_LOCKED');
    identity.clock.advance(6_000);
    try {
      // The delay is over: one more wrong password is checked and doubles it; the holder waits that out and gets in.
      const again = await signIn(p.username, 'Wrong-Password-2');
      expect(again.errors?.[0].extensions).toEqual({ code: 'ACCOUNT_LOCKED', retryAfter: 10 });
      expect(codeOf(await signIn(p.username, p.password))).toBe('ACCOUNT_LOCKED');
      identity.clock.advance(11_000);
      expect(codeOf(await signIn(p.username, p.password))).toBe('OK');
      // A success starts the count again.
      expect(codeOf(await signIn(p.username, 'Wrong-Password-3'))).toBe('INVALID_CREDENTIALS');
    } finally {
      identity.clock.advance(-17_000);
    }
  });

  it('never accepts the right password among racing wrong ones beyond the limit', async () => {
    const p = await patientWithAccount();
    const attempts = Array.from({ length: 20 }, (_, i) => (i === 10 ? p.password : `Wrong-Password-${i}`));
    const codes = (await Promise.all(attempts.map((pw) => signIn(p.username, pw)))).map(codeOf);
    const checkedWrong = (await auditOf(p.accountId, 'SIGN_IN')).filter((r) => r.outcome === 'INVALID_CREDENTIALS').length;
    const succeeded = codes.filter((c) => c === 'OK').length;
    // However the race went, no more than five passwords were checked, and a success came from within those five.
    expect(checkedWrong + succeeded).toBeLessThanOrEqual(5);
    if (succeeded === 0) expect(codes[10]).toBe('ACCOUNT_LOCKED');
  });

  it('refuses a success whose attempt was reserved before others locked the key (reserve, then release)', async () => {
    const store = new IdentityStore(identity.server.database.dataSource);
    const throttle = new Throttle(store, identity.clock.now);
    const key = `reserve.${randomUUID().slice(0, 8)}`;
    const first = await throttle.reserve(key);
    if (!first.ok) throw new Error('the first attempt must pass');
    const rest = [];
    for (let i = 0; i < 5; i++) rest.push(await throttle.reserve(key));
    expect(rest.map((r) => r.ok)).toEqual([true, true, true, true, false]);
    // The first attempt turns out right, but meanwhile the fifth set the delay: the success does not stand.
    expect(await throttle.succeeded(first.reservation)).toBe(false);
    // The attempt that set the delay may still succeed: it is the one the delay was for.
    const fifth = rest[3];
    if (!fifth.ok) throw new Error('the fifth attempt must pass');
    expect(fifth.reservation.lockedUntil).not.toBeNull();
    expect(await throttle.succeeded(fifth.reservation)).toBe(true);
    expect(await store.throttleOf(key)).toBeNull();
  });

  it('audits sign-ins with method, outcome and client address, never the password', async () => {
    const p = await patientWithAccount();
    expect(codeOf(await signIn(p.username, 'Wrong-Password-1'))).toBe('INVALID_CREDENTIALS');
    expect(codeOf(await signIn(p.username, p.password))).toBe('OK');
    const rows = await auditOf(p.accountId, 'SIGN_IN');
    expect(rows.map((r) => [r.method, r.outcome])).toEqual([
      ['DS_LOGON', 'INVALID_CREDENTIALS'],
      ['DS_LOGON', 'OK'],
    ]);
    expect(rows.every((r) => typeof r.clientAddress === 'string' && r.clientAddress.length > 0)).toBe(true);
    // No audit column holds the password.
    const all = JSON.stringify(await identity.server.database.dataSource.query('SELECT * FROM identity_audit_event'));
    expect(all).not.toContain('Wrong-Password-1');
    expect(all).not.toContain(p.password);
  });
});

describe('identity checks racing', () => {
  it('checks at most five of 20 account creations with a guessed birth date sent at once; the right details after them are refused', async () => {
    const dodId = String(1400000000 + Math.floor(Math.random() * 89999999));
    const id = `pt-${dodId}`;
    await identity.server.database.dataSource.query(
      `INSERT INTO person (id, kind, dod_id, given_name, family_name, date_of_birth) VALUES ('${id}', 'PATIENT', '${dodId}', 'Guess', 'Target', '1980-05-05')`,
    );
    const input = (dateOfBirth: string, i: number) => ({
      personIdentifier: dodId,
      firstName: 'Guess',
      lastName: 'Target',
      dateOfBirth,
      username: `guess.${dodId}.${i}`,
      password: 'Sturdy-Password-42',
    });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => identity.query(CREATE, { input: input(`1980-01-${String(i + 1).padStart(2, '0')}`, i) })));
    const codes = answers.map(codeOf);
    expect(codes.filter((c) => c === 'IDENTITY_NOT_VERIFIED')).toHaveLength(4);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(16);
    const checked = await identity.server.database.dataSource.query(
      `SELECT COUNT(*) AS n FROM identity_audit_event WHERE event = 'ACCOUNT_CREATED' AND outcome = 'IDENTITY_NOT_VERIFIED' AND person_id = '${id}'`,
    );
    expect(Number(checked[0].n)).toBe(5);
    const right = await identity.query(CREATE, { input: input('1980-05-05', 99) });
    expect(codeOf(right)).toBe('RATE_LIMITED');
    expect(right.errors?.[0].extensions?.retryAfter).toBeGreaterThan(0);
  });

  it('checks at most five of 20 PIV registrations with a wrong password sent at once', async () => {
    const p = await patientWithAccount();
    const card = await pki.card({ commonName: 'Race Person (PIV Authentication)', uuid: randomUUID() });
    const inputs = [];
    for (let i = 0; i < 20; i++) {
      const challenge = await identity.challenge();
      inputs.push({
        firstName: p.firstName,
        lastName: p.lastName,
        dateOfBirth: p.dateOfBirth,
        personIdentifier: p.dodId,
        dsLogonUsername: p.username,
        dsLogonPassword: `Wrong-Password-${i}`,
        certificate: certificatePem(card),
        challenge,
        signature: signChallenge(card.keys, challenge),
      });
    }
    const codes = (await Promise.all(inputs.map((input) => identity.query(REGISTER, { input })))).map(codeOf);
    expect(codes.filter((c) => c === 'IDENTITY_NOT_VERIFIED')).toHaveLength(4);
    expect(codes.filter((c) => c === 'ACCOUNT_LOCKED')).toHaveLength(16);
    const lockouts = await auditOf(p.accountId, 'LOCKOUT');
    expect(lockouts).toHaveLength(1);
    // The username is slowed down for sign-in too.
    expect(codeOf(await signIn(p.username, p.password))).toBe('ACCOUNT_LOCKED');
  });
});

describe('audit of service tokens', () => {
  it('audits every grant and refusal by client id, never the secret, under the request id the response carries', async () => {
    const db = identity.server.database.dataSource;
    const clientId = `audit-${randomUUID().slice(0, 8)}`;
    const secret = await createServiceClient(db, clientId, ['messaging:write']);
    const ask = (client_secret: string) =>
      fetch(`${identity.server.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret }),
      });
    const granted = await ask(secret);
    const refused = await ask('not-the-secret');
    expect([granted.status, refused.status]).toEqual([200, 401]);
    const rows = await db.query(
      `SELECT request_id AS "requestId", outcome, detail FROM identity_audit_event WHERE event = 'SERVICE_TOKEN' AND account_id = 'service:${clientId}' ORDER BY occurred_at`,
    );
    expect(rows).toEqual([
      { requestId: granted.headers.get('x-request-id'), outcome: 'OK', detail: 'messaging:write' },
      { requestId: refused.headers.get('x-request-id'), outcome: 'invalid_client', detail: null },
    ]);
    expect(JSON.stringify(await db.query('SELECT * FROM identity_audit_event'))).not.toContain(secret);
  });
});
