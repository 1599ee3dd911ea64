import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DEMO, sql, TokenVerifier } from '@portal/kit';
import { testSigningKey } from '@portal/kit/src/testing';
import { AccountEntity, PersonEntity, PivCardEntity, type AccountRow } from '../db/entities';
import { openTestIdentityDatabase, type TestIdentityDatabase } from '../db/testDatabase';
import { certificatePem, createIntermediateCa, createRootCa, issueCard, signChallenge, type CardOptions, type Issued } from '../smartcard/pki';
import { TrustStore } from '../smartcard/trust';
import { hashPassword } from './passwords';
import { SessionService } from './sessions';
import { SignInService } from './signIn';
import { CHALLENGE_TTL_MS, SmartCardService, type PivRegistration } from './smartCards';
import { Throttle, throttleKey } from './throttle';

const MINUTE = 60_000;

async function outcome(p: Promise<unknown>): Promise<{ code: unknown; message: string; field?: unknown } | 'OK'> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    const ext = (e as { extensions?: { code?: unknown; field?: unknown } }).extensions ?? {};
    return { code: ext.code, message: (e as Error).message, ...(ext.field ? { field: ext.field } : {}) };
  }
}
const codeOf = async (p: Promise<unknown>) => {
  const o = await outcome(p);
  return o === 'OK' ? 'OK' : o.code;
};

describe('SmartCardService', () => {
  let t: TestIdentityDatabase;
  let dir: string;
  let intermediate: Issued;
  let now: Date;
  let service: SmartCardService;
  let verifier: TokenVerifier;
  let throttle: Throttle;
  const later = (ms: number) => {
    now = new Date(now.getTime() + ms);
  };

  beforeAll(async () => {
    t = await openTestIdentityDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-smartcards-test-'));
    const root = await createRootCa('CN=Cards Root CA, C=US', { keyKind: 'P-256' });
    intermediate = await createIntermediateCa(root, 'CN=Cards ID CA, C=US', { keyKind: 'P-256' });
    fs.writeFileSync(path.join(dir, 'ca.pem'), certificatePem(intermediate) + certificatePem(root));
    const trust = new TrustStore({ caFile: path.join(dir, 'ca.pem') });
    const key = await testSigningKey();
    verifier = new TokenVerifier({ jwks: { keys: [key.publicJwk] } });
    const clock = () => now;
    throttle = new Throttle(t.store, clock);
    const signIn = new SignInService(t.store, { signing: key, jwks: [key.publicJwk] }, new SessionService(t.store, null, clock), throttle);
    service = new SmartCardService(t.store, trust, signIn, throttle, clock);
  });
  afterAll(async () => {
    await t?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    now = new Date();
  });

  const card = (commonName: string, options: Partial<CardOptions> = {}) => issueCard(intermediate, { commonName, keyKind: 'P-256', ...options });
  const proof = async (c: Issued, o: { signWith?: Issued; challenge?: string; signed?: string } = {}) => {
    const challenge = o.challenge ?? (await service.challenge()).challenge;
    return { certificate: certificatePem(c), challenge, signature: o.signed ?? signChallenge((o.signWith ?? c).keys, challenge) };
  };
  const signInWith = async (c: Issued, o: Parameters<typeof proof>[1] = {}) => service.signInWithCard(await proof(c, o));

  let people = 0;
  /** A person of the registry with the given kind, and no account yet. */
  async function newPerson(kind: 'PATIENT' | 'PRACTITIONER' = 'PATIENT') {
    const dodId = String(1200000000 + ++people * 1000 + Math.floor(Math.random() * 1000));
    const id = `${kind === 'PATIENT' ? 'pt' : 'pr'}-${dodId}`;
    await t.db.dataSource.getRepository(PersonEntity).insert({ id, kind, dodId, givenName: 'Pat', middleName: null, familyName: `Person${people}`, dateOfBirth: '1988-07-14', specialty: null });
    return { id, dodId, cn: `PERSON${people}.PAT.${dodId}` };
  }
  async function newAccount(personId: string, over: Partial<AccountRow> = {}): Promise<AccountRow> {
    const account: AccountRow = { id: `ac-${randomUUID()}`, personId, username: null, passwordHash: null, role: 'PATIENT', status: 'ACTIVE', createdAt: now.toISOString(), deactivatedAt: null, ...over };
    await t.store.insertAccount(account);
    return account;
  }
  const accountsOf = async (personId: string) => (await t.store.accountsOfPerson(personId)).map((a) => ({ id: a.id, status: a.status, role: a.role, username: a.username }));

  describe('challenge', () => {
    it('issues 32 random bytes, base64url, good for five minutes', async () => {
      expect(CHALLENGE_TTL_MS).toBe(5 * MINUTE);
      const a = await service.challenge();
      const b = await service.challenge();
      expect(a.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(b.challenge).not.toBe(a.challenge);
      expect(a.expiresAt).toEqual(new Date(now.getTime() + 5 * MINUTE));
      expect(await t.store.consumeChallenge(a.challenge, new Date(now.getTime() + 5 * MINUTE - 1))).toBe(true);
    });

    it('purges challenges expired more than an hour ago', async () => {
      const count = async (c: string) => (await sql<{ n: number }>(t.db.dataSource, 'SELECT COUNT(*) AS n FROM smartcard_challenge WHERE challenge = $1', [c]))[0].n;
      await t.store.insertChallenge('old', new Date(now.getTime() - 70 * MINUTE), new Date(now.getTime() - 61 * MINUTE));
      await t.store.insertChallenge('recent', new Date(now.getTime() - 65 * MINUTE), new Date(now.getTime() - 59 * MINUTE));
      await service.challenge();
      expect(Number(await count('old'))).toBe(0);
      expect(Number(await count('recent'))).toBe(1);
    });
  });

  describe('signInWithCard', () => {
    it('signs a patient in with their CAC to their own account, in a session of its own', async () => {
      const jane = await card('DOE.JANE.A.1000000001');
      const result = await signInWith(jane);
      expect(result.account.id).toBe('ac-jane-doe');
      expect(result.expiresAt).toEqual(new Date(now.getTime() + 15 * MINUTE));
      const viewer = await verifier.verify(result.accessToken);
      expect(viewer).toMatchObject({ accountId: 'ac-jane-doe', personId: DEMO.jane, role: 'PATIENT', method: 'CAC', careTeamIds: [DEMO.careTeamGreen, DEMO.careTeamBlue].sort() });
      expect(await t.store.sessionById(viewer.sessionId)).toMatchObject({ accountId: 'ac-jane-doe', method: 'CAC', endedAt: null });
    });

    it('signs a practitioner in to their own account', async () => {
      const result = await signInWith(await card('KIM.ALEX.2000000001'));
      expect(await verifier.verify(result.accessToken)).toMatchObject({ accountId: 'ac-alex-kim', personId: DEMO.alex, role: 'PRACTITIONER', method: 'CAC' });
    });

    it('gives a patient without an active account a smart-card account on the first sign-in, and the same one after', async () => {
      const p = await newPerson();
      const old = await newAccount(p.id, { username: `old.${p.dodId}` });
      await t.store.deactivateAccount(old.id, now);
      const c = await card(p.cn);
      const first = await signInWith(c);
      expect(first.account).toEqual({ id: expect.any(String), personId: p.id, username: null, passwordHash: null, role: 'PATIENT', status: 'ACTIVE', createdAt: now.toISOString(), deactivatedAt: null });
      expect(first.account.id).not.toBe(old.id);
      expect((await signInWith(c)).account.id).toBe(first.account.id);
      expect((await accountsOf(p.id)).filter((a) => a.status === 'ACTIVE')).toEqual([{ id: first.account.id, status: 'ACTIVE', role: 'PATIENT', username: null }]);
    });

    it('refuses a card whose DoD ID is unknown, and a practitioner without an account or with only a deactivated one', async () => {
      expect(await outcome(signInWith(await card('NOBODY.NO.1999999999')))).toEqual({
        code: 'CARD_NOT_REGISTERED',
        message: 'No one with this card’s DoD ID is known to the portal. Call the portal help desk.',
      });
      const noAccount = await newPerson('PRACTITIONER');
      expect(await outcome(signInWith(await card(noAccount.cn)))).toEqual({
        code: 'CARD_NOT_REGISTERED',
        message: 'There is no portal account for this practitioner. Call the portal help desk.',
      });
      const gone = await newPerson('PRACTITIONER');
      const account = await newAccount(gone.id, { role: 'PRACTITIONER' });
      await t.store.deactivateAccount(account.id, now);
      expect(await outcome(signInWith(await card(gone.cn)))).toEqual({ code: 'ACCOUNT_DEACTIVATED', message: 'Your portal account has been deactivated. Call the portal help desk.' });
      expect(await accountsOf(gone.id)).toEqual([{ id: account.id, status: 'DEACTIVATED', role: 'PRACTITIONER', username: null }]);
    });

    it('signs a PIV card in to the account it is registered to, and refuses it unregistered or when that account is deactivated', async () => {
      const uuid = randomUUID();
      const piv = await card('Someone (PIV Authentication)', { uuid });
      expect(await outcome(signInWith(piv))).toEqual({ code: 'CARD_NOT_REGISTERED', message: 'This PIV card is not registered. Register it with your DS Logon account first (registerPivCard).' });
      const p = await newPerson();
      const account = await newAccount(p.id, { username: `piv.${p.dodId}` });
      await t.db.dataSource.getRepository(PivCardEntity).insert({ id: randomUUID(), cardUuid: uuid, accountId: account.id, fingerprint: 'x', registeredAt: now.toISOString() });
      const result = await signInWith(piv);
      expect(await verifier.verify(result.accessToken)).toMatchObject({ accountId: account.id, personId: p.id, method: 'PIV' });
      await t.store.deactivateAccount(account.id, now);
      expect(await outcome(signInWith(piv))).toEqual({
        code: 'ACCOUNT_DEACTIVATED',
        message: 'The DS Logon account this PIV card is registered to has been deactivated. Create a new DS Logon account and register the card again.',
      });
    });

    it('tells who a card maps to only after its signature proved it: a bad signature on an unknown card is SIGNATURE_INVALID', async () => {
      const unknown = await card('NOBODY.NO.1888888888');
      expect(await outcome(signInWith(unknown, { signWith: await card('OTHER.NO.1888888888') }))).toEqual({
        code: 'SIGNATURE_INVALID',
        message: 'The signature does not match this card’s certificate. Sign the challenge exactly as issued, with this card.',
      });
      expect(await codeOf(signInWith(await card(`NOBODY.NO.1777777777`, { uuid: randomUUID() }), { signed: 'AAAA' }))).toBe('SIGNATURE_INVALID');
    });

    it('refuses an unknown, a used, an expired or an overlong challenge, and spends it on a failed attempt', async () => {
      const jane = await card('DOE.JANE.A.1000000001');
      const invalid = { code: 'CHALLENGE_INVALID', message: 'The challenge is unknown, expired or already used. Ask for a new one (smartCardChallenge) and sign that.' };
      expect(await outcome(signInWith(jane, { challenge: 'never-issued' }))).toEqual(invalid);
      const used = await proof(jane);
      await service.signInWithCard(used);
      expect(await outcome(service.signInWithCard(used))).toEqual(invalid);
      const expiring = await proof(jane);
      later(5 * MINUTE);
      expect(await outcome(service.signInWithCard(expiring))).toEqual(invalid);
      const failed = await proof(jane);
      expect(await codeOf(service.signInWithCard({ ...failed, certificate: certificatePem(intermediate) }))).toBe('CERTIFICATE_INVALID');
      expect(await outcome(service.signInWithCard(failed))).toEqual(invalid);
      // Longer than any challenge issued (and than the column holding them): refused without a lookup.
      expect(await outcome(signInWith(jane, { challenge: 'x'.repeat(129) }))).toEqual(invalid);
    });

    it('checks the certificate: an expired card is CERTIFICATE_EXPIRED', async () => {
      const expired = await card('DOE.JANE.A.1000000001', { notBefore: new Date(Date.now() - 9 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
      expect(await codeOf(signInWith(expired))).toBe('CERTIFICATE_EXPIRED');
    });

    it('refuses a proof missing its parts with BAD_USER_INPUT naming the field', async () => {
      const good = await proof(await card('DOE.JANE.A.1000000001'));
      const cases: [Partial<typeof good>, string, string][] = [
        [{ certificate: '  ' }, 'certificate', 'Send the card’s certificate (PEM).'],
        [{ challenge: ' ' }, 'challenge', 'Send the challenge you signed.'],
        [{ signature: '' }, 'signature', 'Send the signature over the challenge, in base64.'],
        [{ signature: 'not base64!' }, 'signature', 'Send the signature over the challenge, in base64.'],
        [{ signature: 'A'.repeat(2049) }, 'signature', 'Send the signature over the challenge, in base64.'],
        [{ signature: 'AAAA===' }, 'signature', 'Send the signature over the challenge, in base64.'],
        [{ signature: '=AAAA' }, 'signature', 'Send the signature over the challenge, in base64.'],
      ];
      for (const [over, field, message] of cases) {
        expect([over, await outcome(service.signInWithCard({ ...good, ...over }))]).toEqual([over, { code: 'BAD_USER_INPUT', field, message }]);
      }
      // The challenge was not spent by those: it still signs in.
      expect((await service.signInWithCard({ ...good, signature: ` ${good.signature} ` })).account.id).toBe('ac-jane-doe');
    });

    it('locks a card after five bad signatures in a row, even for a good one, for 15 minutes', async () => {
      const p = await newPerson();
      await newAccount(p.id);
      const c = await card(p.cn);
      const stranger = await card(p.cn);
      for (let i = 1; i < 5; i++) expect(await codeOf(signInWith(c, { signWith: stranger }))).toBe('SIGNATURE_INVALID');
      const until = new Date(now.getTime() + 15 * MINUTE).toISOString();
      const locked = { code: 'ACCOUNT_LOCKED', message: `Too many failed smart-card sign-ins: they are locked until ${until}. Try again then.` };
      expect(await outcome(signInWith(c, { signWith: stranger }))).toEqual(locked);
      expect(await outcome(signInWith(c))).toEqual(locked);
      later(15 * MINUTE);
      expect((await signInWith(c)).account.personId).toBe(p.id);
    });

    it('counts bad signatures against the account too: another card of the same person is locked out with it', async () => {
      const p = await newPerson();
      const account = await newAccount(p.id);
      const first = await card(p.cn);
      const second = await card(p.cn);
      const stranger = await card(p.cn);
      for (let i = 0; i < 3; i++) await codeOf(signInWith(first, { signWith: stranger }));
      for (let i = 0; i < 2; i++) await codeOf(signInWith(second, { signWith: stranger }));
      expect(await throttle.lockedUntil(throttleKey('card-account', account.id))).not.toBeNull();
      expect(await throttle.lockedUntil(throttleKey('card', (await proofFingerprint(second))))).toBeNull();
      const third = await card(p.cn);
      expect(await codeOf(signInWith(third))).toBe('ACCOUNT_LOCKED');
    });

    it('counts failures in a row: a success clears the card’s and the account’s counts', async () => {
      const p = await newPerson();
      const account = await newAccount(p.id);
      const c = await card(p.cn);
      const stranger = await card(p.cn);
      for (let i = 0; i < 4; i++) await codeOf(signInWith(c, { signWith: stranger }));
      await signInWith(c);
      expect(await t.store.throttleOf(throttleKey('card-account', account.id))).toBeNull();
      expect(await t.store.throttleOf(throttleKey('card', await proofFingerprint(c)))).toBeNull();
      for (let i = 0; i < 4; i++) expect(await codeOf(signInWith(c, { signWith: stranger }))).toBe('SIGNATURE_INVALID');
    });

    it('locks an unknown card on its own count', async () => {
      const c = await card('NOBODY.NO.1666666666');
      const stranger = await card('NOBODY.NO.1666666666');
      for (let i = 1; i < 5; i++) expect(await codeOf(signInWith(c, { signWith: stranger }))).toBe('SIGNATURE_INVALID');
      expect(await codeOf(signInWith(c, { signWith: stranger }))).toBe('ACCOUNT_LOCKED');
      expect(await codeOf(signInWith(c))).toBe('ACCOUNT_LOCKED');
    });
  });

  describe('registerPiv', () => {
    const details = (p: { dodId: string; username: string; password: string }, over: Partial<PivRegistration> = {}) => ({
      firstName: 'Pat',
      lastName: `Person${p.dodId}`,
      dateOfBirth: '1988-07-14',
      personIdentifier: p.dodId,
      dsLogonUsername: p.username,
      dsLogonPassword: p.password,
      ...over,
    });
    /** A patient with a DS Logon account and a PIV card not yet registered. */
    async function holder() {
      const p = await newPerson();
      await t.db.dataSource.getRepository(PersonEntity).update({ id: p.id }, { familyName: `Person${p.dodId}` });
      const password = 'Sturdy-Password-42';
      const username = `user.${p.dodId}`;
      const account = await newAccount(p.id, { username, passwordHash: await hashPassword(password) });
      const uuid = randomUUID();
      const piv = await card('Pat Person (PIV Authentication)', { uuid });
      return { ...p, username, password, account, uuid, piv };
    }
    const register = async (c: Issued, d: object, o: Parameters<typeof proof>[1] = {}) => service.registerPiv({ ...(await proof(c, o)), ...d } as PivRegistration);

    it('links the card to the account whose username, password and holder’s details match; then it signs in as PIV', async () => {
      const h = await holder();
      const row = await register(h.piv, details(h, { firstName: ' pat ', dsLogonUsername: h.username.toUpperCase() }));
      expect(row).toEqual({ id: expect.any(String), cardUuid: h.uuid, accountId: h.account.id, fingerprint: await proofFingerprint(h.piv), registeredAt: now.toISOString() });
      expect(await t.store.pivCardByUuid(h.uuid)).toEqual(row);
      expect((await signInWith(h.piv)).account.id).toBe(h.account.id);
      // Again to the same account: the same registration.
      expect(await register(h.piv, details(h))).toEqual(row);
    });

    it('answers any mismatch alike with IDENTITY_NOT_VERIFIED, registering nothing', async () => {
      const h = await holder();
      const other = await holder();
      const variants = [
        details(h, { dsLogonPassword: 'Wrong-Password-1' }),
        details(h, { dsLogonUsername: 'no.such.user' }),
        details(h, { firstName: 'Paul' }),
        details(h, { lastName: 'Other' }),
        details(h, { dateOfBirth: '1988-07-15' }),
        details(h, { personIdentifier: other.dodId }),
        details(h, { dsLogonUsername: other.username }),
      ];
      // Five mismatches against h's username would lock it: clear it half-way, as a success would.
      const messages = new Set<string>();
      for (const [i, d] of variants.entries()) {
        if (i === 3) await throttle.clear(h.username);
        const o = await outcome(register(h.piv, d));
        expect([d, o === 'OK' ? o : o.code]).toEqual([d, 'IDENTITY_NOT_VERIFIED']);
        if (o !== 'OK') messages.add(o.message);
      }
      expect(messages.size).toBe(1);
      expect(await t.store.pivCardByUuid(h.uuid)).toBeNull();
      // An account without a password (smart cards only) is never verified by one.
      const cacOnly = await newPerson();
      await t.db.dataSource.getRepository(PersonEntity).update({ id: cacOnly.id }, { familyName: `Person${cacOnly.dodId}` });
      await newAccount(cacOnly.id, { username: `cac.${cacOnly.dodId}` });
      expect(await codeOf(register(h.piv, details({ dodId: cacOnly.dodId, username: `cac.${cacOnly.dodId}`, password: '' }, { dsLogonPassword: 'anything' })))).toBe('IDENTITY_NOT_VERIFIED');
    });

    it('counts mismatches against the username and locks it at the fifth; a success clears the count', async () => {
      const h = await holder();
      for (let i = 0; i < 4; i++) expect(await codeOf(register(h.piv, details(h, { firstName: 'Wrong' })))).toBe('IDENTITY_NOT_VERIFIED');
      await register(h.piv, details(h));
      expect(await t.store.throttleOf(h.username)).toBeNull();
      expect(await t.store.throttleOf(throttleKey('card', await proofFingerprint(h.piv)))).toBeNull();
      const g = await holder();
      for (let i = 0; i < 4; i++) await codeOf(register(g.piv, details(g, { firstName: 'Wrong' })));
      const until = new Date(now.getTime() + 15 * MINUTE).toISOString();
      const locked = { code: 'ACCOUNT_LOCKED', message: `Too many wrong passwords: sign-in is locked until ${until}. Try again then, or call the DS Logon help desk.` };
      expect(await outcome(register(g.piv, details(g, { firstName: 'Wrong' })))).toEqual(locked);
      // Locked before the challenge is even looked at: the right details do not help, and the challenge is not spent.
      const kept = await proof(g.piv);
      expect(await outcome(service.registerPiv({ ...kept, ...details(g) } as PivRegistration))).toEqual(locked);
      expect(await t.store.consumeChallenge(kept.challenge, now)).toBe(true);
      later(15 * MINUTE);
      expect((await register(g.piv, details(g))).accountId).toBe(g.account.id);
    });

    it('never counts against (or locks) a key of the smart-card throttles through a username with a colon', async () => {
      const h = await holder();
      const name = throttleKey('card', await proofFingerprint(h.piv));
      for (let i = 0; i < 6; i++) expect(await codeOf(register(h.piv, details(h, { dsLogonUsername: name })))).toBe('IDENTITY_NOT_VERIFIED');
      expect(await t.store.throttleOf(name)).toBeNull();
    });

    it('checks the card like a sign-in: signature (counted against the card), challenge, a CAC needs no registration', async () => {
      const h = await holder();
      const stranger = await card('Stranger (PIV Authentication)', { uuid: h.uuid });
      for (let i = 1; i < 5; i++) expect(await codeOf(register(h.piv, details(h), { signWith: stranger }))).toBe('SIGNATURE_INVALID');
      expect(await codeOf(register(h.piv, details(h), { signWith: stranger }))).toBe('ACCOUNT_LOCKED');
      const g = await holder();
      expect(await codeOf(register(g.piv, details(g), { challenge: 'never-issued' }))).toBe('CHALLENGE_INVALID');
      expect(await outcome(register(await card(`PERSON.PAT.${g.dodId}`), details(g)))).toEqual({
        code: 'BAD_USER_INPUT',
        field: 'certificate',
        message: 'This is a CAC: it signs in by itself and needs no registration.',
      });
    });

    it('refuses missing or overlong details with BAD_USER_INPUT naming the field', async () => {
      const h = await holder();
      const cases: [object, string][] = [
        [{ firstName: ' ' }, 'firstName'],
        [{ personIdentifier: '12345' }, 'personIdentifier'],
        [{ dsLogonUsername: '  ' }, 'dsLogonUsername'],
        [{ dsLogonUsername: 'u'.repeat(65) }, 'dsLogonUsername'],
        [{ dsLogonPassword: '' }, 'dsLogonPassword'],
        [{ dsLogonPassword: 'p'.repeat(257) }, 'dsLogonPassword'],
        [{ signature: '' }, 'signature'],
      ];
      for (const [over, field] of cases) {
        const o = await outcome(register(h.piv, details(h, over as Partial<PivRegistration>)));
        expect([over, o === 'OK' ? o : [o.code, o.field]]).toEqual([over, ['BAD_USER_INPUT', field]]);
      }
      expect(await outcome(register(h.piv, details(h, { dsLogonUsername: 'u'.repeat(64) })))).toMatchObject({ code: 'IDENTITY_NOT_VERIFIED' });
      expect(await outcome(register(h.piv, details(h, { dsLogonPassword: 'p'.repeat(256) })))).toMatchObject({ code: 'IDENTITY_NOT_VERIFIED' });
    });

    it('refuses a deactivated account with the right password', async () => {
      const h = await holder();
      await t.store.deactivateAccount(h.account.id, now);
      expect(await outcome(register(h.piv, details(h)))).toEqual({
        code: 'ACCOUNT_DEACTIVATED',
        message: 'This DS Logon account has been deactivated. Create a new DS Logon account, then register the card to it.',
      });
    });

    it('will not move a card registered to another active account, or to another person’s deactivated one', async () => {
      const h = await holder();
      await register(h.piv, details(h));
      const other = await holder();
      const conflict = { code: 'CONFLICT', message: 'This PIV card is registered to another DS Logon account. Call the DS Logon help desk.' };
      expect(await outcome(register(h.piv, details(other)))).toEqual(conflict);
      await t.store.deactivateAccount(h.account.id, now);
      expect(await outcome(register(h.piv, details(other)))).toEqual(conflict);
      expect((await t.store.pivCardByUuid(h.uuid))?.accountId).toBe(h.account.id);
    });

    it('moves a card from a deactivated account of the same person to their new account', async () => {
      const h = await holder();
      const first = await register(h.piv, details(h));
      await t.store.deactivateAccount(h.account.id, now);
      const username = `new.${h.dodId}`;
      const account = await newAccount(h.id, { username, passwordHash: await hashPassword('Brand-New-Password-7') });
      later(MINUTE);
      const renewed = await card('Pat Person (PIV Authentication)', { uuid: h.uuid });
      const moved = await register(renewed, details(h, { dsLogonUsername: username, dsLogonPassword: 'Brand-New-Password-7' }));
      expect(moved).toEqual({ id: first.id, cardUuid: h.uuid, accountId: account.id, fingerprint: await proofFingerprint(renewed), registeredAt: now.toISOString() });
      expect(await t.store.pivCardByUuid(h.uuid)).toEqual(moved);
      expect((await signInWith(renewed)).account.id).toBe(account.id);
    });
  });

  const proofFingerprint = async (c: Issued) => {
    const { parseCard } = await import('../smartcard/certificate');
    return parseCard(certificatePem(c)).fingerprint;
  };

  it('keeps the accounts table to one active account per person through all of the above', async () => {
    const rows = await t.db.dataSource.getRepository(AccountEntity).find();
    const active = rows.filter((r) => r.status === 'ACTIVE').map((r) => r.personId);
    expect(new Set(active).size).toBe(active.length);
  });
});
