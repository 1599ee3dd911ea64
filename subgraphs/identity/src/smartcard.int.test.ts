import { randomBytes, randomUUID } from 'node:crypto';
import { sql, startSubgraph } from '@portal/kit';
import { DEMO } from '@portal/demo';
import { gql } from '@portal/kit/testing';
import { createIdentityModule } from './module';
import { ChallengeCodec } from './smartcard/challenge';
import { x509 } from './smartcard/x509';
import { certificatePem, generateKeys, issueCard, signChallenge, SMARTCARD_LOGON, type Issued } from './smartcard/pki';
import { removeTestDir } from '@portal/kit/testing';
import { codeOf, createTestPki, ME, SIGN_IN_WITH_SMART_CARD, startIdentity, type TestIdentity, type TestPki } from './testing';

let pki: TestPki;
let identity: TestIdentity;
let jane: Issued;
let alex: Issued;
let revoked: Issued;
let forgedRevoked: Issued;

beforeAll(async () => {
  pki = await createTestPki();
  jane = await pki.card({ commonName: 'DOE.JANE.A.1000000001' });
  alex = await pki.card({ commonName: 'KIM.ALEX.2000000001', keyKind: 'P-256' });
  revoked = await pki.card({ commonName: 'ROE.JOHN.B.1000000002' });
  forgedRevoked = await pki.card({ commonName: 'ROE.JOHN.B.1000000002' });
  await pki.writeCrls([revoked], [forgedRevoked]);
  // 500 challenges are issued below to show they write nothing: more than the per-address challenge limit allows a minute.
  identity = await startIdentity({
    pki,
    config: { rateLimits: { challenge: { perAddress: { points: 5_000, seconds: 60 }, global: { points: 50_000, seconds: 60 } } } },
  });
});
afterAll(async () => {
  try {
    await identity?.stop();
  } finally {
    removeTestDir(pki?.dir);
  }
});

/** Signs in and reads `me` with the new token. */
async function meAfter(res: Awaited<ReturnType<TestIdentity['signInWithCard']>>) {
  expect(res.errors).toBeUndefined();
  return (await identity.query(ME, {}, res.data.signInWithSmartCard.accessToken)).data.me;
}

describe('smartCardChallenge', () => {
  it('issues a random nonce with its expiry and MAC, valid for five minutes, different each time', async () => {
    const t0 = Date.now();
    const res = await identity.query('{ smartCardChallenge { challenge expiresAt } }');
    const t1 = Date.now();
    const { challenge, expiresAt } = res.data.smartCardChallenge;
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{32}\.\d{13}\.[A-Za-z0-9_-]{43}$/);
    expect(Number(challenge.split('.')[1])).toBe(Date.parse(expiresAt));
    // Five minutes from its issue, between t0 and t1.
    expect(Date.parse(expiresAt)).toBeGreaterThanOrEqual(t0 + 5 * 60_000);
    expect(Date.parse(expiresAt)).toBeLessThanOrEqual(t1 + 5 * 60_000);
    expect(await identity.challenge()).not.toBe(challenge);
  });

  it('writes nothing: 500 challenges cost no SQL statement and leave no row', async () => {
    const db = identity.server.database;
    const [{ n: before }] = await sql<{ n: number }>(db.dataSource, 'SELECT COUNT(*) AS n FROM smartcard_challenge_used');
    db.counter.count = 0;
    // 20 aliases a request: within the document limits (20 root fields).
    const aliases = Array.from({ length: 20 }, (_, i) => `c${i}: smartCardChallenge { challenge }`).join(' ');
    const seen = new Set<string>();
    for (let i = 0; i < 25; i++) {
      const res = await identity.query(`{ ${aliases} }`);
      for (const c of Object.values(res.data) as { challenge: string }[]) seen.add(c.challenge);
    }
    expect(seen.size).toBe(500);
    expect(db.counter.count).toBe(0);
    const [{ n: after }] = await sql<{ n: number }>(db.dataSource, 'SELECT COUNT(*) AS n FROM smartcard_challenge_used');
    expect(Number(after)).toBe(Number(before));
  });

  it('records a use once, by nonce, and forgets it after the challenge expired', async () => {
    const db = identity.server.database.dataSource;
    const challenge = await identity.challenge();
    const nonce = challenge.split('.')[0];
    expect(codeOf(await identity.signInWithCard(jane, { challenge }))).toBe('OK');
    const rows = await sql<{ expires_at: string }>(db, 'SELECT expires_at FROM smartcard_challenge_used WHERE nonce = $1', [nonce]);
    expect(rows.map((r) => Date.parse(r.expires_at))).toEqual([Number(challenge.split('.')[1])]);
    // Another use, six minutes on, purges what expired more than a minute before.
    identity.clock.advance(6 * 60_000 + 1_000);
    try {
      expect(codeOf(await identity.signInWithCard(jane))).toBe('OK');
    } finally {
      identity.clock.advance(-(6 * 60_000 + 1_000));
    }
    expect(await sql(db, 'SELECT nonce FROM smartcard_challenge_used WHERE nonce = $1', [nonce])).toEqual([]);
  });

  it('CHALLENGE_INVALID for a challenge whose MAC, nonce or expiry was changed, or that another deployment issued', async () => {
    const challenge = await identity.challenge();
    const [nonce, expiry, mac] = challenge.split('.');
    const other = new ChallengeCodec(randomBytes(32)).issue(new Date()).challenge;
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    for (const forged of [`${nonce}.${expiry}.${flip(mac)}`, `${flip(nonce)}.${expiry}.${mac}`, `${nonce}.${Number(expiry) + 60_000}.${mac}`, other]) {
      expect(codeOf(await identity.signInWithCard(jane, { challenge: forged }))).toBe('CHALLENGE_INVALID');
    }
    // The untouched challenge still works: a forged one spends nothing.
    expect(codeOf(await identity.signInWithCard(jane, { challenge }))).toBe('OK');
  });
});

describe('CAC sign-in', () => {
  it('signs Jane in with an RSA card (CN LAST.FIRST.MIDDLE.EDIPI) to her own account', async () => {
    const res = await identity.signInWithCard(jane);
    expect(res.data.signInWithSmartCard.account).toEqual({ id: 'ac-jane-doe', status: 'ACTIVE' });
    const me = await meAfter(res);
    expect(me.session.method).toBe('CAC');
    expect(me.patient).toEqual({ id: DEMO.jane });
    expect(me.account.signInMethods).toEqual(['DS_LOGON', 'CAC']);
  });

  it('signs Alex in with a P-256 card (CN LAST.FIRST.EDIPI) as a practitioner', async () => {
    const res = await identity.signInWithCard(alex);
    expect(res.data.signInWithSmartCard.account).toEqual({ id: 'ac-alex-kim', status: 'ACTIVE' });
    const me = await meAfter(res);
    expect(me).toMatchObject({ session: { method: 'CAC' }, patient: null, practitioner: { id: DEMO.alex } });
  });

  it('follows an intermediate CA sent after the card’s certificate', async () => {
    const card = await pki.card({ commonName: 'LEE.SAM.2000000002' }, pki.unbundled);
    const res = await identity.signInWithCard(card, { chain: [pki.unbundled] });
    expect(res.data.signInWithSmartCard.account.id).toBe('ac-sam-lee');
    // Without the intermediate the chain does not reach the trusted bundle.
    expect(codeOf(await identity.signInWithCard(card))).toBe('CERTIFICATE_INVALID');
  });

  it('accepts smartcardLogon as the extended key usage, and a card with none', async () => {
    const logon = await pki.card({ commonName: 'DOE.JANE.A.1000000001', extendedKeyUsage: [SMARTCARD_LOGON] });
    const none = await pki.card({ commonName: 'DOE.JANE.A.1000000001', extendedKeyUsage: null });
    expect(codeOf(await identity.signInWithCard(logon))).toBe('OK');
    expect(codeOf(await identity.signInWithCard(none))).toBe('OK');
  });

  it('gives a patient without an account a smart-card account on the first sign-in, and the same one after', async () => {
    await identity.server.database.dataSource.query(
      `INSERT INTO person (id, kind, dod_id, given_name, family_name, date_of_birth) VALUES ('pt-cac-only', 'PATIENT', '1000000077', 'Cac', 'Only', '1991-01-01')`,
    );
    const card = await pki.card({ commonName: 'ONLY.CAC.1000000077' });
    const first = await identity.signInWithCard(card);
    const second = await identity.signInWithCard(card);
    const id = first.data.signInWithSmartCard.account.id;
    expect(second.data.signInWithSmartCard.account.id).toBe(id);
    const me = await meAfter(second);
    expect(me.account).toEqual({ id, username: null, status: 'ACTIVE', signInMethods: ['CAC'] });
    expect(me.patient).toEqual({ id: 'pt-cac-only' });
  });
});

describe('refusals, each with its own code, signing no one in', () => {
  const expectRefused = (res: Awaited<ReturnType<TestIdentity['signInWithCard']>>, code: string) => {
    expect(codeOf(res)).toBe(code);
    expect(res.data).toBeNull();
  };

  it('CERTIFICATE_EXPIRED for an expired card and for one not valid yet', async () => {
    const day = 86_400_000;
    const expired = await pki.card({ commonName: 'DOE.JANE.A.1000000001', notBefore: new Date(Date.now() - 400 * day), notAfter: new Date(Date.now() - day) });
    const early = await pki.card({ commonName: 'DOE.JANE.A.1000000001', notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 400 * day) });
    const a = await identity.signInWithCard(expired);
    const b = await identity.signInWithCard(early);
    expectRefused(a, 'CERTIFICATE_EXPIRED');
    expectRefused(b, 'CERTIFICATE_EXPIRED');
    expect(a.errors?.[0].message).toMatch(/expired/);
    expect(b.errors?.[0].message).toMatch(/not valid until/);
  });

  it('CERTIFICATE_REVOKED for a card the CA’s CRL lists; a CRL signed by another key revokes nothing', async () => {
    expectRefused(await identity.signInWithCard(revoked), 'CERTIFICATE_REVOKED');
    expect(codeOf(await identity.signInWithCard(forgedRevoked))).toBe('OK');
  });

  it('picks up a new CRL without a restart', async () => {
    const card = await pki.card({ commonName: 'ROE.JOHN.B.1000000002' });
    expect(codeOf(await identity.signInWithCard(card))).toBe('OK');
    await pki.writeCrls([revoked, card], [forgedRevoked]);
    expectRefused(await identity.signInWithCard(card), 'CERTIFICATE_REVOKED');
  });

  it('CERTIFICATE_INVALID for a self-signed certificate', async () => {
    const keys = await generateKeys('RSA');
    const leaf = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=DOE.JANE.A.1000000001',
      keys,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
    });
    const res = await identity.signInWithCard({ cert: leaf, keys });
    expectRefused(res, 'CERTIFICATE_INVALID');
    expect(res.errors?.[0].message).toMatch(/self-signed/);
  });

  it('CERTIFICATE_INVALID for a card issued by an untrusted CA, even one named like a trusted CA', async () => {
    const stranger = await issueCard(pki.impostor, { commonName: 'DOE.JANE.A.1000000001' });
    const res = await identity.signInWithCard(stranger, { chain: [pki.impostor] });
    expectRefused(res, 'CERTIFICATE_INVALID');
    expect(res.errors?.[0].message).toMatch(/trusted CA/);
  });

  it('CERTIFICATE_INVALID for the wrong key usage: no digital signature, or an extended usage not for sign-in', async () => {
    const encipherOnly = await pki.card({ commonName: 'DOE.JANE.A.1000000001', keyUsage: x509.KeyUsageFlags.keyEncipherment });
    const noKeyUsage = await pki.card({ commonName: 'DOE.JANE.A.1000000001', keyUsage: null });
    const serverAuth = await pki.card({ commonName: 'DOE.JANE.A.1000000001', extendedKeyUsage: ['1.3.6.1.5.5.7.3.1'] });
    for (const card of [encipherOnly, noKeyUsage, serverAuth]) expectRefused(await identity.signInWithCard(card), 'CERTIFICATE_INVALID');
  });

  it('CERTIFICATE_INVALID for a CA certificate used as a card', async () => {
    expectRefused(await identity.signInWithCard(pki.intermediate), 'CERTIFICATE_INVALID');
  });

  it('CERTIFICATE_INVALID for a malformed PEM', async () => {
    const challenge = await identity.challenge();
    const signature = signChallenge(jane.keys, challenge);
    const garbled = certificatePem(jane).replace(/[A-Za-z]{20}/, 'notbase64!'.repeat(2));
    for (const certificate of ['hello', garbled, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----']) {
      const res = await identity.query(
        'mutation($c: String!, $ch: String!, $s: String!) { signInWithSmartCard(input: { certificate: $c, challenge: $ch, signature: $s }) { accessToken } }',
        { c: certificate, ch: await identity.challenge(), s: signature },
      );
      expectRefused(res, 'CERTIFICATE_INVALID');
    }
  });

  it('SIGNATURE_INVALID for a signature by another key or over another challenge', async () => {
    expectRefused(await identity.signInWithCard(jane, { signWith: alex }), 'SIGNATURE_INVALID');
    const other = await identity.challenge();
    expectRefused(await identity.signInWithCard(jane, { signed: signChallenge(jane.keys, other) }), 'SIGNATURE_INVALID');
    expectRefused(await identity.signInWithCard(alex, { signed: Buffer.from('not a signature').toString('base64') }), 'SIGNATURE_INVALID');
  });

  it('CHALLENGE_INVALID for an unknown, a reused and an expired challenge', async () => {
    expectRefused(await identity.signInWithCard(jane, { challenge: 'made-up-challenge' }), 'CHALLENGE_INVALID');
    const used = await identity.challenge();
    expect(codeOf(await identity.signInWithCard(jane, { challenge: used }))).toBe('OK');
    expectRefused(await identity.signInWithCard(jane, { challenge: used }), 'CHALLENGE_INVALID');
    const old = await identity.challenge();
    identity.clock.advance(5 * 60_000 + 1_000);
    try {
      expectRefused(await identity.signInWithCard(jane, { challenge: old }), 'CHALLENGE_INVALID');
    } finally {
      identity.clock.advance(-(5 * 60_000 + 1_000));
    }
  });

  it('spends the challenge on a failed attempt too', async () => {
    const challenge = await identity.challenge();
    expectRefused(await identity.signInWithCard(jane, { challenge, signWith: alex }), 'SIGNATURE_INVALID');
    expectRefused(await identity.signInWithCard(jane, { challenge }), 'CHALLENGE_INVALID');
  });

  it('lets exactly one of many racing attempts use a challenge', async () => {
    const challenge = await identity.challenge();
    const results = await Promise.all(Array.from({ length: 8 }, () => identity.signInWithCard(jane, { challenge })));
    expect(results.map(codeOf).sort()).toEqual(['CHALLENGE_INVALID', 'CHALLENGE_INVALID', 'CHALLENGE_INVALID', 'CHALLENGE_INVALID', 'CHALLENGE_INVALID', 'CHALLENGE_INVALID', 'CHALLENGE_INVALID', 'OK']);
  });

  it('lets exactly one of two sign-ins at once on two instances use a challenge either instance issued', async () => {
    const second = await startSubgraph(createIdentityModule(), { config: identity.config, databaseName: identity.databaseName });
    try {
      const onSecond = (challenge: string) =>
        gql(second.graphqlUrl, SIGN_IN_WITH_SMART_CARD, { certificate: certificatePem(jane), challenge, signature: signChallenge(jane.keys, challenge) });
      // The second instance honours the first one's challenge: they share the signing key the MAC key comes from.
      expect(codeOf(await onSecond(await identity.challenge()))).toBe('OK');
      for (let round = 0; round < 3; round++) {
        const challenge = await identity.challenge();
        const results = await Promise.all([identity.signInWithCard(jane, { challenge }), onSecond(challenge)]);
        expect(results.map(codeOf).sort()).toEqual(['CHALLENGE_INVALID', 'OK']);
      }
    } finally {
      await second.close();
    }
  });

  it('CARD_NOT_REGISTERED for a CAC whose EDIPI matches nobody, a PIV card never registered, and a practitioner with no account', async () => {
    expectRefused(await identity.signInWithCard(await pki.card({ commonName: 'NOBODY.KNOWN.9999999999' })), 'CARD_NOT_REGISTERED');
    expectRefused(await identity.signInWithCard(await pki.card({ commonName: 'Some PIV Holder', uuid: randomUUID() })), 'CARD_NOT_REGISTERED');
    await identity.server.database.dataSource.query(
      `INSERT INTO person (id, kind, dod_id, given_name, family_name, date_of_birth, specialty) VALUES ('pr-no-account', 'PRACTITIONER', '2000000055', 'No', 'Account', '1970-01-01', 'NURSE')`,
    );
    expectRefused(await identity.signInWithCard(await pki.card({ commonName: 'ACCOUNT.NO.2000000055' })), 'CARD_NOT_REGISTERED');
  });

  it('tells who the card maps to only after the signature proved the card: a bad signature on an unknown card is SIGNATURE_INVALID', async () => {
    const nobody = await pki.card({ commonName: 'NOBODY.KNOWN.9999999999' });
    expectRefused(await identity.signInWithCard(nobody, { signWith: jane }), 'SIGNATURE_INVALID');
  });

  it('BAD_USER_INPUT for an empty certificate or a signature that is not base64', async () => {
    const ch = await identity.challenge();
    const res = await identity.query(
      'mutation($c: String!, $ch: String!, $s: String!) { signInWithSmartCard(input: { certificate: $c, challenge: $ch, signature: $s }) { accessToken } }',
      { c: '', ch, s: 'AAAA' },
    );
    expect(res.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'certificate' });
    const bad = await identity.signInWithCard(jane, { signed: 'not base64 at all!' });
    expect(bad.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'signature' });
  });
});

describe('rate limiting', () => {
  it('does not count bad signatures against a card or its account: they cannot be guessed, and counting them would let anyone lock the holder out', async () => {
    await identity.server.database.dataSource.query(
      `INSERT INTO person (id, kind, dod_id, given_name, family_name, date_of_birth) VALUES ('pt-locked-card', 'PATIENT', '1000000066', 'Locked', 'Card', '1992-02-02')`,
    );
    const card = await pki.card({ commonName: 'CARD.LOCKED.1000000066' });
    expect(codeOf(await identity.signInWithCard(card))).toBe('OK');
    const codes: string[] = [];
    for (let i = 0; i < 12; i++) codes.push(codeOf(await identity.signInWithCard(card, { signWith: alex })));
    expect(codes).toEqual(Array(12).fill('SIGNATURE_INVALID'));
    expect(codeOf(await identity.signInWithCard(card))).toBe('OK');
    const [{ n }] = await identity.server.database.dataSource.query(`SELECT COUNT(*) AS n FROM sign_in_throttle`);
    expect(Number(n)).toBe(0);
  });
});

describe('PIV sign-in matches the registered certificate, not only the UUID', () => {
  const REGISTER = `mutation($input: RegisterPivCardInput!) { registerPivCard(input: $input) { id uuid } }`;
  const JOHN = { firstName: 'John', lastName: 'Roe', dateOfBirth: '1982-09-03', personIdentifier: '1000000002', dsLogonUsername: 'john.roe', dsLogonPassword: 'Demo-Password-2' };
  const register = async (card: Issued) => {
    const challenge = await identity.challenge();
    return identity.query(REGISTER, { input: { ...JOHN, certificate: certificatePem(card), challenge, signature: signChallenge(card.keys, challenge) } });
  };

  it('refuses a second certificate with the registered card’s UUID from a trusted issuer; a renewal registered again replaces the first', async () => {
    const uuid = randomUUID();
    const card = await pki.card({ commonName: 'John B Roe (PIV Authentication)', uuid });
    expect(codeOf(await register(card))).toBe('OK');
    expect((await identity.signInWithCard(card)).data.signInWithSmartCard.account.id).toBe('ac-john-roe');

    const copy = await pki.card({ commonName: 'John B Roe (PIV Authentication)', uuid });
    const refused = await identity.signInWithCard(copy);
    expect(codeOf(refused)).toBe('CARD_NOT_REGISTERED');
    expect(refused.data).toBeNull();

    // Registering the new certificate (DS Logon password and identity again) makes it the card; the old one stops.
    expect(codeOf(await register(copy))).toBe('OK');
    expect(codeOf(await identity.signInWithCard(copy))).toBe('OK');
    expect(codeOf(await identity.signInWithCard(card))).toBe('CARD_NOT_REGISTERED');
  });
});

describe('input checks, made before the challenge is spent', () => {
  const SIGNATURE = 'Send the signature over the challenge, in base64.';

  it('BAD_USER_INPUT naming the field for a sign-in proof missing a part or with a signature that is not base64 or too long; the challenge still signs in after', async () => {
    const challenge = await identity.challenge();
    const good = { certificate: certificatePem(jane), challenge, signature: signChallenge(jane.keys, challenge) };
    const cases: [Partial<typeof good>, string, string][] = [
      [{ certificate: '  ' }, 'certificate', 'Send the card’s certificate (PEM).'],
      [{ challenge: ' ' }, 'challenge', 'Send the challenge you signed.'],
      [{ signature: '' }, 'signature', SIGNATURE],
      [{ signature: '   ' }, 'signature', SIGNATURE],
      [{ signature: 'not base64!' }, 'signature', SIGNATURE],
      [{ signature: 'A'.repeat(2049) }, 'signature', SIGNATURE],
      [{ signature: 'AAAA===' }, 'signature', SIGNATURE],
      [{ signature: '=AAAA' }, 'signature', SIGNATURE],
      [{ signature: 'AAAA\nAAAA' }, 'signature', SIGNATURE],
    ];
    for (const [over, field, message] of cases) {
      const res = await identity.query(SIGN_IN_WITH_SMART_CARD, { ...good, ...over });
      expect([over, res.errors?.[0].extensions, res.errors?.[0].message]).toEqual([over, { code: 'BAD_USER_INPUT', field }, message]);
    }
    // At the length limit, and with padding or URL-safe characters, a signature is read (and checked).
    for (const signature of ['A'.repeat(2048), 'AA-_AA==', 'AAA+/AA=']) {
      expect(codeOf(await identity.query(SIGN_IN_WITH_SMART_CARD, { ...good, signature }))).toBe('SIGNATURE_INVALID');
      good.challenge = await identity.challenge();
      good.signature = signChallenge(jane.keys, good.challenge);
    }
    const spare = await identity.challenge();
    await identity.query(SIGN_IN_WITH_SMART_CARD, { ...good, challenge: spare, certificate: '' });
    // Surrounding white space is allowed around the signature.
    expect(codeOf(await identity.signInWithCard(jane, { challenge: spare, signed: ` ${signChallenge(jane.keys, spare)} ` }))).toBe('OK');
  });

  it('BAD_USER_INPUT naming the field for PIV registration details that are missing or too long, registering nothing and spending no challenge', async () => {
    const REGISTER = `mutation($input: RegisterPivCardInput!) { registerPivCard(input: $input) { id uuid } }`;
    const card = await pki.card({ commonName: 'Jane A Doe (PIV Authentication)', uuid: randomUUID() });
    const challenge = await identity.challenge();
    const input = {
      firstName: 'Jane',
      lastName: 'Doe',
      dateOfBirth: '1985-04-12',
      personIdentifier: '1000000001',
      dsLogonUsername: `nobody.${randomUUID().slice(0, 8)}`,
      dsLogonPassword: 'Some-Password-1',
      certificate: certificatePem(card),
      challenge,
      signature: signChallenge(card.keys, challenge),
    };
    const cases: [Partial<typeof input>, string][] = [
      [{ firstName: ' ' }, 'firstName'],
      [{ lastName: '' }, 'lastName'],
      [{ personIdentifier: '12345' }, 'personIdentifier'],
      [{ dsLogonUsername: '  ' }, 'dsLogonUsername'],
      [{ dsLogonUsername: 'u'.repeat(65) }, 'dsLogonUsername'],
      [{ dsLogonPassword: '' }, 'dsLogonPassword'],
      [{ dsLogonPassword: 'p'.repeat(257) }, 'dsLogonPassword'],
      [{ signature: '' }, 'signature'],
      [{ certificate: ' ' }, 'certificate'],
    ];
    for (const [over, field] of cases) {
      const res = await identity.query(REGISTER, { input: { ...input, ...over } });
      expect([over, res.errors?.[0].extensions]).toEqual([over, { code: 'BAD_USER_INPUT', field }]);
    }
    expect(codeOf(await identity.signInWithCard(card))).toBe('CARD_NOT_REGISTERED');
    // A 64-character username and a 256-character password are read and checked (here: no such account),
    // the first with the challenge the refusals above did not spend.
    expect(codeOf(await identity.query(REGISTER, { input: { ...input, dsLogonUsername: `u${randomUUID().replace(/-/g, '')}`.padEnd(64, 'u') } }))).toBe('IDENTITY_NOT_VERIFIED');
    const next = await identity.challenge();
    expect(codeOf(await identity.query(REGISTER, { input: { ...input, dsLogonPassword: 'p'.repeat(256), challenge: next, signature: signChallenge(card.keys, next) } }))).toBe(
      'IDENTITY_NOT_VERIFIED',
    );
  });
});
