import { createHash, randomBytes, randomUUID, scryptSync } from 'node:crypto';
import { sql } from '@portal/kit';
import fs from 'node:fs';
import path from 'node:path';
import { removeTestDir, testTempDir } from '@portal/kit/testing';
import type { AccountRow } from '../db/entities';
import { openTestIdentityDatabase, type TestIdentityDatabase } from '../db/testDatabase';
import { ChallengeCodec } from '../smartcard/challenge';
import { certificatePem, createCrl, createIntermediateCa, createRootCa, issueCard, signChallenge, type CardOptions, type Issued } from '../smartcard/pki';
import { TrustStore } from '../smartcard/trust';
import { SecurityAudit } from './audit';
import type { SignInResult, SignInService } from './signIn';
import { SmartCardService, type CardProof, type PivRegistration } from './smartCards';
import { Throttle } from './throttle';

// SmartCardService on identity's real database, a real test PKI and real challenges, called
// directly (no server): the rules smartcard.int.test.ts checks through GraphQL, fast enough for
// mutation testing. Only the session and token a sign-in ends with are left out: `issue` records
// which account signed in how (SignInService is tested through identity's own tests).
describe('SmartCardService', () => {
  let t: TestIdentityDatabase;
  // A small PKI of P-256 keys (RSA keys take seconds to make on a loaded machine): a root and the issuing CA, both trusted, each with an empty CRL.
  let pki: { dir: string; card(options: CardOptions): Promise<Issued> };
  let trust: TrustStore;
  let jane: Issued;
  let alex: Issued;
  let now: number;
  const clock = () => new Date(now);
  const codec = new ChallengeCodec(randomBytes(32));
  let issued: { accountId: string; method: string }[];
  let service: SmartCardService;
  let requestId: string;
  /** A new service whose audit rows carry a request id of their own (read by `audited`). */
  const build = () => {
    requestId = `req-sc-${randomUUID()}`;
    const signIn = {
      issue: async (account: AccountRow, method: string) => {
        issued.push({ accountId: account.id, method });
        return {} as SignInResult;
      },
    } as unknown as SignInService;
    const audit = new SecurityAudit(t.store, { requestId, viewer: null, clientAddress: '127.0.0.1' }, clock);
    service = new SmartCardService(t.store, trust, codec, signIn, new Throttle(t.store, clock), audit, clock);
  };

  beforeAll(async () => {
    t = await openTestIdentityDatabase();
    const dir = testTempDir('identity-smartcards-');
    pki = { dir, card: (options) => issueCard(ca, options) };
    const root = await createRootCa('CN=Test Root CA, O=Portal Tests, C=US', { keyKind: 'P-256' });
    const ca = await createIntermediateCa(root, 'CN=Test ID CA-1, O=Portal Tests, C=US', { keyKind: 'P-256' });
    const caFile = path.join(dir, 'trusted-ca.pem');
    const crlFile = path.join(dir, 'crls.pem');
    fs.writeFileSync(caFile, certificatePem(ca) + certificatePem(root));
    fs.writeFileSync(crlFile, [await createCrl(ca, []), await createCrl(root, [])].map((c) => c.toString('pem')).join('\n'));
    trust = new TrustStore({ caFile, crlFile, rules: { issuers: { CAC: 'any', PIV: 'any' }, policyOids: { CAC: [], PIV: [] }, crlGraceMs: 0 } });
    jane = await pki.card({ commonName: 'DOE.JANE.A.1000000001', keyKind: 'P-256' });
    alex = await pki.card({ commonName: 'KIM.ALEX.2000000001', keyKind: 'P-256' });
  });
  afterAll(async () => {
    try {
      await t?.close();
    } finally {
      removeTestDir(pki?.dir);
    }
  });
  beforeEach(() => {
    now = Date.now();
    issued = [];
    build();
  });

  const challenge = async () => (await service.challenge()).challenge;
  const proof = async (card: Issued, o: Partial<CardProof> & { signWith?: Issued } = {}): Promise<CardProof> => {
    const ch = o.challenge ?? (await challenge());
    return { certificate: o.certificate ?? certificatePem(card.cert), challenge: ch, signature: o.signature ?? signChallenge((o.signWith ?? card).keys, ch) };
  };
  /** The refusal's code, message and field, or 'OK'. */
  const refusal = async (p: Promise<unknown>) => {
    try {
      await p;
      return 'OK';
    } catch (e) {
      const x = e as { message: string; extensions?: { code?: string; field?: string } };
      return { code: x.extensions?.code, message: x.message, ...(x.extensions?.field ? { field: x.extensions.field } : {}) };
    }
  };
  const codeOf = async (p: Promise<unknown>) => {
    const r = await refusal(p);
    return r === 'OK' ? r : r.code;
  };
  /** The audit rows written since the last `build()`. */
  const audited = async () =>
    sql<{ event: string; method: string | null; outcome: string; account_id: string | null; person_id: string | null; detail: string | null }>(
      t.db.dataSource,
      'SELECT event, method, outcome, account_id, person_id, detail FROM identity_audit_event WHERE request_id = $1 ORDER BY occurred_at, event',
      [requestId],
    );
  /** A person (and accounts) of the test's own, so tests do not disturb each other. */
  async function person(kind: 'PATIENT' | 'PRACTITIONER', accounts: Partial<AccountRow>[] = []) {
    const dodId = String(1_100_000_000 + Math.floor(Math.random() * 800_000_000));
    const id = `${kind === 'PATIENT' ? 'pt' : 'pr'}-${dodId}`;
    await sql(t.db.dataSource, 'INSERT INTO person (id, kind, dod_id, given_name, middle_name, family_name, date_of_birth, specialty) VALUES ($1, $2, $3, $4, NULL, $5, $6, NULL)', [
      id,
      kind,
      dodId,
      'Pat',
      'Tester',
      '1980-01-02',
    ]);
    const rows: AccountRow[] = [];
    for (const a of accounts) {
      const row: AccountRow = {
        id: `ac-${randomUUID()}`,
        personId: id,
        username: null,
        passwordHash: null,
        role: kind,
        status: 'ACTIVE',
        createdAt: new Date(now - 1000).toISOString(),
        deactivatedAt: null,
        ...a,
      } as AccountRow;
      await t.store.insertAccount(row);
      rows.push(row);
    }
    return { id, dodId, accounts: rows };
  }
  const deactivate = (accountId: string) => t.store.deactivateAccount(accountId, new Date(now));

  describe('challenge', () => {
    it('issues a challenge good for five minutes that the codec opens, writing nothing', async () => {
      const [{ n: before }] = await sql<{ n: number }>(t.db.dataSource, 'SELECT COUNT(*) AS n FROM smartcard_challenge_used');
      const c = await service.challenge();
      expect(c.expiresAt).toEqual(new Date(now + 300_000));
      expect(codec.open(c.challenge, new Date(now))).toEqual({ nonce: c.challenge.split('.')[0], expiresAt: c.expiresAt });
      const [{ n: after }] = await sql<{ n: number }>(t.db.dataSource, 'SELECT COUNT(*) AS n FROM smartcard_challenge_used');
      expect(Number(after)).toBe(Number(before));
    });
  });

  describe('signInWithCard: the proof', () => {
    it('BAD_USER_INPUT naming the field for a missing certificate, challenge or signature', async () => {
      const good = await proof(jane);
      expect(await refusal(service.signInWithCard({ ...good, certificate: ' \n' }))).toEqual({ code: 'BAD_USER_INPUT', message: 'Send the card’s certificate (PEM).', field: 'certificate' });
      expect(await refusal(service.signInWithCard({ ...good, challenge: ' ' }))).toEqual({ code: 'BAD_USER_INPUT', message: 'Send the challenge you signed.', field: 'challenge' });
      const badSignature = { code: 'BAD_USER_INPUT', message: 'Send the signature over the challenge, in base64.', field: 'signature' };
      for (const signature of ['', '  ', 'A'.repeat(2049), 'abc$', '$abc', 'ab$c', 'abc===', 'ab=c', 'a b', '=']) {
        expect(await refusal(service.signInWithCard({ ...good, signature }))).toEqual(badSignature);
      }
      // None of those spent the challenge.
      expect(await codeOf(service.signInWithCard(good))).toBe('OK');
    });

    it('takes standard and URL-safe base64, padded or not, up to 2,048 characters, with white space around', async () => {
      for (const signature of ['A'.repeat(2048), 'ab+/', 'ab-_', 'abc=', 'ab==', ' abcd ', 'Zz09']) {
        // Past the input check: the challenge is spent and the signature checked.
        expect(await refusal(service.signInWithCard(await proof(jane, { signature })))).toEqual({
          code: 'SIGNATURE_INVALID',
          message: 'The signature does not match this card’s certificate. Sign the challenge exactly as issued, with this card.',
        });
      }
    });

    it('CHALLENGE_INVALID for a forged, reused or expired challenge; a used one is recorded by nonce until a minute after it expired', async () => {
      const challengeInvalid = {
        code: 'CHALLENGE_INVALID',
        message: 'The challenge is unknown, expired or already used. Ask for a new one (smartCardChallenge) and sign that.',
      };
      const good = await proof(jane);
      const other = new ChallengeCodec(randomBytes(32)).issue(new Date(now)).challenge;
      expect(await refusal(service.signInWithCard(await proof(jane, { challenge: other })))).toEqual(challengeInvalid);
      expect(await refusal(service.signInWithCard(await proof(jane, { challenge: `${good.challenge}x` })))).toEqual(challengeInvalid);
      expect(await codeOf(service.signInWithCard(good))).toBe('OK');
      expect(await refusal(service.signInWithCard(good))).toEqual(challengeInvalid);
      const nonce = good.challenge.split('.')[0];
      expect(await sql(t.db.dataSource, 'SELECT nonce FROM smartcard_challenge_used WHERE nonce = $1', [nonce])).toEqual([{ nonce }]);

      const old = await proof(jane);
      now += 300_000;
      expect(await refusal(service.signInWithCard(old))).toEqual(challengeInvalid);
      // A use is forgotten once its challenge expired more than a minute ago, not before.
      const expiresAt = Number(good.challenge.split('.')[1]);
      now = expiresAt + 60_000;
      expect(await codeOf(service.signInWithCard(await proof(jane)))).toBe('OK');
      expect(await sql(t.db.dataSource, 'SELECT nonce FROM smartcard_challenge_used WHERE nonce = $1', [nonce])).toEqual([{ nonce }]);
      now = expiresAt + 60_001;
      expect(await codeOf(service.signInWithCard(await proof(jane)))).toBe('OK');
      expect(await sql(t.db.dataSource, 'SELECT nonce FROM smartcard_challenge_used WHERE nonce = $1', [nonce])).toEqual([]);
    });

    it('spends the challenge before the certificate is checked, and checks the signature before saying what the card maps to', async () => {
      const good = await proof(jane);
      expect(await codeOf(service.signInWithCard({ ...good, certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }))).toBe('CERTIFICATE_INVALID');
      expect(await codeOf(service.signInWithCard(good))).toBe('CHALLENGE_INVALID');
      const stranger = await pki.card({ commonName: 'NOBODY.KNOWN.1999999999', keyKind: 'P-256' });
      expect(await codeOf(service.signInWithCard(await proof(stranger, { signWith: jane })))).toBe('SIGNATURE_INVALID');
      expect(await codeOf(service.signInWithCard(await proof(jane, { signWith: alex })))).toBe('SIGNATURE_INVALID');
      expect(issued).toEqual([]);
    });

    it('audits each refusal as a smart-card sign-in with its code', async () => {
      build();
      await service.signInWithCard({ ...(await proof(jane)), signature: '' }).catch(() => undefined);
      await service.signInWithCard(await proof(jane, { signWith: alex })).catch(() => undefined);
      expect(await audited()).toEqual([
        { event: 'SIGN_IN', method: 'SMART_CARD', outcome: 'BAD_USER_INPUT', account_id: null, person_id: null, detail: null },
        { event: 'SIGN_IN', method: 'SMART_CARD', outcome: 'SIGNATURE_INVALID', account_id: null, person_id: null, detail: null },
      ]);
    });
  });

  describe('signInWithCard: whom a CAC signs in', () => {
    it('the account of the person with its DoD ID: a patient’s or a practitioner’s', async () => {
      expect(await codeOf(service.signInWithCard(await proof(jane)))).toBe('OK');
      expect(await codeOf(service.signInWithCard(await proof(alex)))).toBe('OK');
      expect(issued).toEqual([
        { accountId: 'ac-jane-doe', method: 'CAC' },
        { accountId: 'ac-alex-kim', method: 'CAC' },
      ]);
    });

    it('CARD_NOT_REGISTERED for a DoD ID no one has', async () => {
      const stranger = await pki.card({ commonName: 'NOBODY.KNOWN.1999999999', keyKind: 'P-256' });
      expect(await refusal(service.signInWithCard(await proof(stranger)))).toEqual({
        code: 'CARD_NOT_REGISTERED',
        message: 'No one with this card’s DoD ID is known to the portal. Call the portal help desk.',
      });
    });

    it('creates an account for a patient without an active one, once, and audits it', async () => {
      for (const accounts of [[], [{ status: 'DEACTIVATED' as const, deactivatedAt: new Date(now - 500).toISOString() }]]) {
        const p = await person('PATIENT', accounts);
        const card = await pki.card({ commonName: `TESTER.PAT.${p.dodId}`, keyKind: 'P-256' });
      build();
        issued = [];
        expect(await codeOf(service.signInWithCard(await proof(card)))).toBe('OK');
        const created = (await t.store.accountsOfPerson(p.id)).filter((a) => a.status === 'ACTIVE');
        expect(created).toEqual([
          { id: expect.any(String), personId: p.id, username: null, passwordHash: null, role: 'PATIENT', status: 'ACTIVE', createdAt: new Date(now).toISOString(), deactivatedAt: null },
        ]);
        expect(issued).toEqual([{ accountId: created[0].id, method: 'CAC' }]);
        expect(await audited()).toEqual([{ event: 'ACCOUNT_CREATED', method: 'CAC', outcome: 'OK', account_id: created[0].id, person_id: p.id, detail: null }]);
        // The next sign-in uses it.
        now += 1;
        expect(await codeOf(service.signInWithCard(await proof(card)))).toBe('OK');
        expect(issued).toEqual([
          { accountId: created[0].id, method: 'CAC' },
          { accountId: created[0].id, method: 'CAC' },
        ]);
        expect(await t.store.accountsOfPerson(p.id)).toHaveLength(accounts.length + 1);
      }
    });

    it('gives two first sign-ins at once the same new account (one active account per person is the database’s rule)', async () => {
      const p = await person('PATIENT');
      const card = await pki.card({ commonName: `TESTER.PAT.${p.dodId}`, keyKind: 'P-256' });
      const proofs = await Promise.all([proof(card), proof(card), proof(card)]);
      expect(await Promise.all(proofs.map((x) => codeOf(service.signInWithCard(x))))).toEqual(['OK', 'OK', 'OK']);
      const accounts = await t.store.accountsOfPerson(p.id);
      expect(accounts).toHaveLength(1);
      expect(issued).toEqual(proofs.map(() => ({ accountId: accounts[0].id, method: 'CAC' })));
    });

    it('signs a person with a deactivated and an active account in to the active one', async () => {
      const p = await person('PRACTITIONER', [{ status: 'DEACTIVATED', deactivatedAt: new Date(now - 500).toISOString() }, {}]);
      const card = await pki.card({ commonName: `TESTER.PAT.${p.dodId}`, keyKind: 'P-256' });
      expect(await codeOf(service.signInWithCard(await proof(card)))).toBe('OK');
      expect(issued).toEqual([{ accountId: p.accounts[1].id, method: 'CAC' }]);
    });

    it('refuses a practitioner whose accounts are all deactivated, or who has none, creating nothing', async () => {
      const gone = await person('PRACTITIONER', [{ status: 'DEACTIVATED', deactivatedAt: new Date(now - 500).toISOString() }]);
      const goneCard = await pki.card({ commonName: `TESTER.PAT.${gone.dodId}`, keyKind: 'P-256' });
      expect(await refusal(service.signInWithCard(await proof(goneCard)))).toEqual({
        code: 'ACCOUNT_DEACTIVATED',
        message: 'Your portal account has been deactivated. Call the portal help desk.',
      });
      const none = await person('PRACTITIONER');
      const noneCard = await pki.card({ commonName: `TESTER.PAT.${none.dodId}`, keyKind: 'P-256' });
      expect(await refusal(service.signInWithCard(await proof(noneCard)))).toEqual({
        code: 'CARD_NOT_REGISTERED',
        message: 'There is no portal account for this practitioner. Call the portal help desk.',
      });
      expect(await t.store.accountsOfPerson(gone.id)).toHaveLength(1);
      expect(await t.store.accountsOfPerson(none.id)).toHaveLength(0);
      expect(issued).toEqual([]);
    });
  });

  describe('PIV cards: registration and sign-in', () => {
    const password = 'Piv-Test-Password-1';
    // identity's own format (services/passwords.ts) at a small cost, which it reads from the hash: the default takes a tenth of a second per check.
    const salt = randomBytes(16);
    const passwordHash = ['scrypt', 1024, 8, 1, salt.toString('base64'), scryptSync(password.normalize('NFKC'), salt, 32, { N: 1024, r: 8, p: 1 }).toString('base64')].join('$');
    /** A patient with a DS Logon account of their own. */
    async function patient(o: Partial<AccountRow> = {}) {
      const username = `piv.${randomBytes(4).toString('hex')}`;
      const p = await person((o.role as 'PATIENT') ?? 'PATIENT', [{ username, passwordHash, ...o }]);
      return { ...p, username, account: p.accounts[0] };
    }
    const registration = async (card: Issued, p: { dodId: string; username: string }, o: Partial<PivRegistration> = {}): Promise<PivRegistration> => ({
      ...(await proof(card)),
      firstName: 'Pat',
      lastName: 'Tester',
      dateOfBirth: '1980-01-02',
      personIdentifier: p.dodId,
      dsLogonUsername: p.username,
      dsLogonPassword: password,
      ...o,
    });
    const pivCard = (uuid: string = randomUUID()) => pki.card({ commonName: 'Pat Tester (PIV Authentication)', keyKind: 'P-256', uuid });
    const fingerprintOf = (card: Issued) => createHash('sha256').update(Buffer.from(card.cert.rawData)).digest('base64url');

    it('registers a PIV card to a patient’s DS Logon account, audits it, tells the holder, and then signs in with it', async () => {
      const p = await patient();
      const uuid = randomUUID();
      const card = await pivCard(uuid);
      build();
      const row = await service.registerPiv(await registration(card, p));
      expect(row).toEqual({ id: expect.any(String), cardUuid: uuid, accountId: p.account.id, fingerprint: fingerprintOf(card), registeredAt: new Date(now).toISOString() });
      expect(await t.store.pivCardByUuid(uuid)).toEqual(row);
      expect(await audited()).toEqual([
        { event: 'CARD_REGISTERED', method: 'PIV', outcome: 'OK', account_id: p.account.id, person_id: p.id, detail: uuid },
        { event: 'CREDENTIAL_ADDED', method: 'PIV', outcome: 'OK', account_id: p.account.id, person_id: p.id, detail: 'PIV' },
      ]);
      expect(await sql(t.db.dataSource, 'SELECT kind, account_id FROM identity_notice WHERE person_id = $1', [p.id])).toEqual([{ kind: 'PIV_REGISTERED', account_id: p.account.id }]);
      expect(await t.store.throttleOf(p.username)).toBeNull();

      expect(await codeOf(service.signInWithCard(await proof(card)))).toBe('OK');
      expect(issued).toEqual([{ accountId: p.account.id, method: 'PIV' }]);
      // Registered again with the same certificate: the same registration, nothing new.
      now += 1000;
      expect(await service.registerPiv(await registration(card, p))).toEqual(row);
      expect(await sql(t.db.dataSource, 'SELECT kind FROM identity_notice WHERE person_id = $1', [p.id])).toHaveLength(1);
    });

    it('refuses to sign in an unregistered PIV card, another certificate with a registered UUID, and a card whose account was deactivated', async () => {
      expect(await refusal(service.signInWithCard(await proof(await pivCard())))).toEqual({
        code: 'CARD_NOT_REGISTERED',
        message: 'This PIV card is not registered. Register it with your DS Logon account first (registerPivCard).',
      });
      const p = await patient();
      const uuid = randomUUID();
      const card = await pivCard(uuid);
      await service.registerPiv(await registration(card, p));
      expect(await refusal(service.signInWithCard(await proof(await pivCard(uuid))))).toEqual({
        code: 'CARD_NOT_REGISTERED',
        message: 'This certificate is not the one registered for this PIV card. If the card was renewed, register it again (registerPivCard).',
      });
      await deactivate(p.account.id);
      expect(await refusal(service.signInWithCard(await proof(card)))).toEqual({
        code: 'ACCOUNT_DEACTIVATED',
        message: 'The DS Logon account this PIV card is registered to has been deactivated. Create a new DS Logon account and register the card again.',
      });
      expect(issued).toEqual([]);
    });

    it('checks the username and password input before spending the challenge', async () => {
      const p = await patient();
      const card = await pivCard();
      const reg = await registration(card, p);
      const user = { code: 'BAD_USER_INPUT', message: 'Enter your DS Logon username.', field: 'dsLogonUsername' };
      const pass = { code: 'BAD_USER_INPUT', message: 'Enter your DS Logon password.', field: 'dsLogonPassword' };
      expect(await refusal(service.registerPiv({ ...reg, dsLogonUsername: ' ' }))).toEqual(user);
      expect(await refusal(service.registerPiv({ ...reg, dsLogonUsername: 'a'.repeat(65) }))).toEqual(user);
      expect(await refusal(service.registerPiv({ ...reg, dsLogonPassword: '' }))).toEqual(pass);
      expect(await refusal(service.registerPiv({ ...reg, dsLogonPassword: 'p'.repeat(257) }))).toEqual(pass);
      expect(await refusal(service.registerPiv({ ...reg, signature: '!' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'signature' });
      expect(await refusal(service.registerPiv({ ...reg, personIdentifier: '12' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'personIdentifier' });
      // At the limits the input is taken (and the details then do not match).
      expect(await codeOf(service.registerPiv({ ...(await registration(card, p)), dsLogonUsername: 'a'.repeat(64) }))).toBe('IDENTITY_NOT_VERIFIED');
      expect(await codeOf(service.registerPiv({ ...(await registration(card, p)), dsLogonPassword: 'p'.repeat(256) }))).toBe('IDENTITY_NOT_VERIFIED');
      // The refused ones spent nothing.
      expect(await codeOf(service.registerPiv(reg))).toBe('OK');
    });

    it('refuses a CAC, a bad signature and a spent challenge before looking at the account', async () => {
      const p = await patient();
      const cac = await pki.card({ commonName: `TESTER.PAT.${p.dodId}`, keyKind: 'P-256' });
      expect(await refusal(service.registerPiv(await registration(cac, p)))).toEqual({
        code: 'BAD_USER_INPUT',
        message: 'This is a CAC: it signs in by itself and needs no registration.',
        field: 'certificate',
      });
      const card = await pivCard();
      expect(await codeOf(service.registerPiv({ ...(await registration(card, p)), ...(await proof(card, { signWith: jane })) }))).toBe('SIGNATURE_INVALID');
      const reg = await registration(card, p);
      await service.signInWithCard(await proof(jane, { challenge: reg.challenge }));
      expect(await codeOf(service.registerPiv(reg))).toBe('CHALLENGE_INVALID');
      // None of them counted against the username.
      expect(await t.store.throttleOf(p.username)).toBeNull();
    });

    it('IDENTITY_NOT_VERIFIED, counted against the username, whichever detail is wrong; a username with a colon is never looked up', async () => {
      const p = await patient();
      const card = await pivCard();
      build();
      const notVerified = {
        code: 'IDENTITY_NOT_VERIFIED',
        message:
          'The details you entered do not match our records. Check your name, date of birth and DoD ID (and DS Logon username and password), or call the DS Logon help desk.',
      };
      expect(await refusal(service.registerPiv(await registration(card, p, { dsLogonPassword: 'Wrong-Password-1' })))).toEqual(notVerified);
      expect(await refusal(service.registerPiv(await registration(card, p, { dateOfBirth: '1980-01-03' })))).toEqual(notVerified);
      expect(await refusal(service.registerPiv(await registration(card, p, { lastName: 'Other' })))).toEqual(notVerified);
      expect(await t.store.throttleOf(p.username)).toEqual({ failures: 3, lockedUntil: null });
      expect(await refusal(service.registerPiv(await registration(card, p, { dsLogonUsername: 'nobody.here' })))).toEqual(notVerified);
      expect(await t.store.throttleOf('nobody.here')).toEqual({ failures: 1, lockedUntil: null });
      // A username key holding a colon (the throttle's other keys) is refused without a throttle row.
      expect(await refusal(service.registerPiv(await registration(card, p, { dsLogonUsername: `identity:${p.dodId}` })))).toEqual(notVerified);
      expect(await t.store.throttleOf(`identity:${p.dodId}`)).toBeNull();
      // The username is trimmed and lower-cased as it is stored.
      expect(await codeOf(service.registerPiv(await registration(card, p, { dsLogonUsername: ` ${p.username.toUpperCase()} ` })))).toBe('OK');
      expect(await t.store.throttleOf(p.username)).toBeNull();
      expect((await audited()).map((r) => r.outcome)).toEqual(expect.arrayContaining(['IDENTITY_NOT_VERIFIED', 'OK']));
      expect((await audited()).filter((r) => r.outcome === 'IDENTITY_NOT_VERIFIED').every((r) => r.event === 'CARD_REGISTERED' && r.method === 'PIV')).toBe(true);
      expect((await audited()).filter((r) => r.outcome === 'IDENTITY_NOT_VERIFIED')).toHaveLength(5);
    });

    it('locks the username at the fifth failure in a row, audits the lock, and refuses while it lasts', async () => {
      const p = await patient();
      const card = await pivCard();
      for (let i = 0; i < 4; i++) expect(await codeOf(service.registerPiv(await registration(card, p, { dateOfBirth: '1999-09-09' })))).toBe('IDENTITY_NOT_VERIFIED');
      build();
      const fifth = await refusal(service.registerPiv(await registration(card, p, { dateOfBirth: '1999-09-09' })));
      const until = new Date(now + 5000).toISOString();
      expect(fifth).toEqual({
        code: 'ACCOUNT_LOCKED',
        message: `Too many wrong passwords: try again after ${until} (the wait doubles with every further wrong password, up to 15 minutes), or call the DS Logon help desk.`,
      });
      expect(await audited()).toEqual([
        { event: 'CARD_REGISTERED', method: 'PIV', outcome: 'ACCOUNT_LOCKED', account_id: null, person_id: null, detail: null },
        { event: 'LOCKOUT', method: 'PIV', outcome: 'ACCOUNT_LOCKED', account_id: p.account.id, person_id: p.id, detail: 'failures=5' },
      ]);
      // Even the right details wait.
      expect(await codeOf(service.registerPiv(await registration(card, p)))).toBe('ACCOUNT_LOCKED');
      now += 5000;
      expect(await codeOf(service.registerPiv(await registration(card, p)))).toBe('OK');
    });

    it('refuses an account with a username but no password, whatever password is sent', async () => {
      const p = await patient({ passwordHash: null });
      expect(await codeOf(service.registerPiv(await registration(await pivCard(), p)))).toBe('IDENTITY_NOT_VERIFIED');
      expect(await codeOf(service.registerPiv(await registration(await pivCard(), p, { dsLogonPassword: 'x' })))).toBe('IDENTITY_NOT_VERIFIED');
      expect(await t.store.throttleOf(p.username)).toEqual({ failures: 2, lockedUntil: null });
    });

    it('locks an unknown username too, auditing the lock without an account', async () => {
      const p = { dodId: '1999999998', username: `nobody.${randomBytes(4).toString('hex')}` };
      const card = await pivCard();
      for (let i = 0; i < 4; i++) expect(await codeOf(service.registerPiv(await registration(card, p)))).toBe('IDENTITY_NOT_VERIFIED');
      build();
      expect(await codeOf(service.registerPiv(await registration(card, p)))).toBe('ACCOUNT_LOCKED');
      expect(await audited()).toEqual([
        { event: 'CARD_REGISTERED', method: 'PIV', outcome: 'ACCOUNT_LOCKED', account_id: null, person_id: null, detail: null },
        { event: 'LOCKOUT', method: 'PIV', outcome: 'ACCOUNT_LOCKED', account_id: null, person_id: null, detail: 'failures=5' },
      ]);
    });

    it('ACCOUNT_LOCKED, registering nothing, when other attempts locked the username while this one was checked', async () => {
      const p = await patient();
      const card = await pivCard();
      // Five wrong attempts arrive while this (right) one is being checked: its success no longer clears the key.
      const throttle = new Throttle(t.store, clock);
      const racing = Object.assign(Object.create(throttle) as Throttle, {
        succeeded: async (reservation: Parameters<Throttle['succeeded']>[0]) => {
          for (let i = 0; i < 5; i++) await throttle.reserve(p.username);
          return throttle.succeeded(reservation);
        },
      });
      const audit = new SecurityAudit(t.store, { requestId, viewer: null, clientAddress: '127.0.0.1' }, clock);
      const signIn = {} as SignInService;
      const raced = new SmartCardService(t.store, trust, codec, signIn, racing, audit, clock);
      expect(await refusal(raced.registerPiv(await registration(card, p)))).toEqual({
        code: 'ACCOUNT_LOCKED',
        message: expect.stringContaining(`try again after ${new Date(now + 5000).toISOString()}`),
      });
      expect(await t.store.pivCardsOfAccounts([p.account.id])).toEqual([]);
    });

    it('audits refusals only: an internal failure is not recorded as a refused registration or sign-in', async () => {
      const card = await pivCard();
      const broken = { ...(await proof(card)), certificate: undefined as unknown as string };
      await expect(service.signInWithCard(broken)).rejects.toThrow(TypeError);
      await expect(service.registerPiv({ ...(await registration(card, { dodId: '1999999997', username: 'x' })), certificate: undefined as unknown as string })).rejects.toThrow(TypeError);
      expect(await audited()).toEqual([]);
    });

    it('refuses a deactivated DS Logon account and a staff account, after the password', async () => {
      const gone = await patient({ status: 'DEACTIVATED', deactivatedAt: new Date(now - 500).toISOString() });
      expect(await refusal(service.registerPiv(await registration(await pivCard(), gone)))).toEqual({
        code: 'ACCOUNT_DEACTIVATED',
        message: 'This DS Logon account has been deactivated. Create a new DS Logon account, then register the card to it.',
      });
      const staff = await patient({ role: 'PRACTITIONER' });
      expect(await refusal(service.registerPiv(await registration(await pivCard(), staff)))).toEqual({
        code: 'FORBIDDEN',
        message: 'Care staff sign in only with their CAC: DS Logon is for patients.',
      });
      expect(await t.store.throttleOf(gone.username)).toBeNull();
      expect(await t.store.throttleOf(staff.username)).toBeNull();
    });

    it('registers a card registered by two accounts at once to one of them; the other gets CONFLICT', async () => {
      const [p, q] = [await patient(), await patient()];
      const uuid = randomUUID();
      const card = await pivCard(uuid);
      const regs = [await registration(card, p), await registration(card, q)];
      const codes = await Promise.all(regs.map((r) => codeOf(service.registerPiv(r))));
      expect([...codes].sort()).toEqual(['CONFLICT', 'OK']);
      const winner = codes[0] === 'OK' ? p : q;
      expect((await t.store.pivCardByUuid(uuid))?.accountId).toBe(winner.account.id);
    });

    it('replaces the certificate of a renewed card registered again by the same account', async () => {
      const p = await patient();
      const uuid = randomUUID();
      const first = await service.registerPiv(await registration(await pivCard(uuid), p));
      const renewed = await pivCard(uuid);
      now += 60_000;
      const row = await service.registerPiv(await registration(renewed, p));
      expect(row).toEqual({ ...first, fingerprint: fingerprintOf(renewed), registeredAt: new Date(now).toISOString() });
      expect(await t.store.pivCardByUuid(uuid)).toEqual(row);
      expect(await codeOf(service.signInWithCard(await proof(renewed)))).toBe('OK');
    });

    it('moves a card only from a deactivated account of the same person; otherwise CONFLICT', async () => {
      const conflict = { code: 'CONFLICT', message: 'This PIV card is registered to another DS Logon account. Call the DS Logon help desk.' };
      const p = await patient();
      const uuid = randomUUID();
      const card = await pivCard(uuid);
      const first = await service.registerPiv(await registration(card, p));
      // Another person's account, active: refused.
      const other = await patient();
      expect(await refusal(service.registerPiv(await registration(card, other)))).toEqual(conflict);
      // The same person's second account while the first is active: refused.
      const username = `piv.${randomBytes(4).toString('hex')}`;
      const second: AccountRow = { id: `ac-${randomUUID()}`, personId: p.id, username, passwordHash, role: 'PATIENT', status: 'ACTIVE', createdAt: new Date(now).toISOString(), deactivatedAt: null };
      await deactivate(p.account.id);
      await t.store.insertAccount(second);
      build();
      now += 1000;
      const moved = await service.registerPiv(await registration(card, { dodId: p.dodId, username }));
      expect(moved).toEqual({ ...first, accountId: second.id, registeredAt: new Date(now).toISOString() });
      expect(await t.store.pivCardByUuid(uuid)).toEqual(moved);
      expect((await audited()).map((r) => [r.event, r.account_id, r.detail])).toEqual([
        ['CARD_REGISTERED', second.id, uuid],
        ['CREDENTIAL_ADDED', second.id, 'PIV'],
      ]);
      expect(await sql(t.db.dataSource, 'SELECT account_id FROM identity_notice WHERE person_id = $1 ORDER BY created_at', [p.id])).toEqual([{ account_id: p.account.id }, { account_id: second.id }]);
      // A deactivated account of another person does not give up its card.
      const q = await patient();
      const qCard = await pivCard();
      await service.registerPiv(await registration(qCard, q));
      await deactivate(q.account.id);
      expect(await refusal(service.registerPiv(await registration(qCard, other)))).toEqual(conflict);
    });
  });
});
