/**
 * Cards tied to their issuers: which CA may vouch for which kind of card,
 * policies, CA constraints on the path, and revocation that fails closed.
 * Every certificate is made here, by the test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { testConfig } from '@portal/kit/testing';
import { trustStoreFor } from './module';
import { parseCard, verifyCard } from './smartcard/certificate';
import { certificatePem, createCrl, createIntermediateCa, createRootCa, issueCard, type CardOptions, type Issued } from './smartcard/pki';
import { codeOf, startIdentity, type TestIdentity } from './testing';

const CAC_POLICY = '2.16.840.1.101.2.1.11.42';
const OTHER_POLICY = '2.16.840.1.101.3.2.1.3.13';
const DAY = 86_400_000;

let dir: string;
let root: Issued;
/** Named for CAC cards (by DN). */
let cacCa: Issued;
/** Named for PIV cards (by fingerprint). */
let pivCa: Issued;
/** In the trusted bundle, named for nothing. */
let otherCa: Issued;
/** Named for CAC, but its name constraints exclude Jane's subject. */
let constrainedCa: Issued;
/** Named for CAC, sent by the client; issued below cacCa, whose path length (0) forbids it. */
let tooDeep: Issued;
let identity: TestIdentity;
let crlFile: string;

const fingerprint = (ca: Issued) => createHash('sha256').update(Buffer.from(ca.cert.rawData)).digest('hex').replace(/(..)(?!$)/g, '$1:');
const JANE = 'DOE.JANE.A.1000000001';
const cac = (issuer: Issued, options: Partial<CardOptions> = {}) => issueCard(issuer, { commonName: JANE, policies: [CAC_POLICY], ...options });

/** Writes the CRL file: one CRL per CA in `cas` (default: every CA of the hierarchy), revoking `revoked`, due at `nextUpdate`. */
async function writeCrls(options: { cas?: Issued[]; revoked?: Issued[]; nextUpdate?: Date } = {}) {
  const cas = options.cas ?? [root, cacCa, pivCa, otherCa, constrainedCa];
  const crls = await Promise.all(cas.map((ca) => createCrl(ca, (options.revoked ?? []).map((c) => c.cert), { nextUpdate: options.nextUpdate })));
  fs.writeFileSync(crlFile, crls.map((c) => c.toString('pem')).join('\n'));
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'identity-issuers-'));
  root = await createRootCa('CN=Issuer Test Root, O=Portal Tests, C=US');
  cacCa = await createIntermediateCa(root, 'CN=Issuer Test CAC CA, O=Portal Tests, C=US');
  pivCa = await createIntermediateCa(root, 'CN=Issuer Test PIV CA, O=Portal Tests, C=US', { keyKind: 'P-256' });
  otherCa = await createIntermediateCa(root, 'CN=Issuer Test Other CA, O=Portal Tests, C=US');
  constrainedCa = await createIntermediateCa(root, 'CN=Issuer Test Constrained CA, O=Portal Tests, C=US', {
    nameConstraints: { excluded: [`CN=${JANE}, OU=DoD, O=U.S. Government, C=US`] },
  });
  tooDeep = await createIntermediateCa(cacCa, 'CN=Issuer Test Sub CA, O=Portal Tests, C=US');
  const caFile = path.join(dir, 'ca.pem');
  crlFile = path.join(dir, 'crl.pem');
  fs.writeFileSync(caFile, [cacCa, pivCa, otherCa, constrainedCa, root].map(certificatePem).join(''));
  await writeCrls();
  identity = await startIdentity({
    config: {
      smartcardCaFile: caFile,
      smartcardCrlFile: crlFile,
      // The DN in RFC 4514 order (last RDN first) is recognised as well as in the certificate's.
      smartcardCacIssuers: ['C=US, O=Portal Tests, CN=Issuer Test CAC CA', constrainedCa.cert.subject, tooDeep.cert.subject],
      smartcardPivIssuers: [fingerprint(pivCa)],
      smartcardCacPolicyOids: [CAC_POLICY],
    },
  });
});
afterAll(async () => {
  await identity?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the issuing CA must be named for the kind of card', () => {
  it('signs Jane in with a CAC from the CA named for CAC cards', async () => {
    const res = await identity.signInWithCard(await cac(cacCa));
    expect(res.data.signInWithSmartCard.account.id).toBe('ac-jane-doe');
  });

  it('refuses a CAC from a CA that is trusted but not named for CAC cards', async () => {
    const res = await identity.signInWithCard(await cac(otherCa));
    expect(codeOf(res)).toBe('CERTIFICATE_INVALID');
    expect(res.errors?.[0].message).toMatch(/not one this portal accepts CAC cards from/);
    expect(res.data).toBeNull();
  });

  it('refuses a certificate of the PIV issuer presented as a CAC', async () => {
    const res = await identity.signInWithCard(await cac(pivCa, { keyKind: 'P-256' }));
    expect(codeOf(res)).toBe('CERTIFICATE_INVALID');
    expect(res.errors?.[0].message).toMatch(/CAC/);
  });

  it('reads a PIV identity only from the CA named for PIV cards (by fingerprint)', async () => {
    const uuid = randomUUID();
    // Accepted as a PIV card: it is simply not registered.
    expect(codeOf(await identity.signInWithCard(await issueCard(pivCa, { commonName: 'Someone (PIV Authentication)', uuid })))).toBe('CARD_NOT_REGISTERED');
    expect(codeOf(await identity.signInWithCard(await issueCard(cacCa, { commonName: 'Someone (PIV Authentication)', uuid })))).toBe('CERTIFICATE_INVALID');
  });

  it('refuses a card without the required policy OID, or with another policy only', async () => {
    for (const policies of [[], [OTHER_POLICY]]) {
      const res = await identity.signInWithCard(await cac(cacCa, { policies }));
      expect(codeOf(res)).toBe('CERTIFICATE_INVALID');
      expect(res.errors?.[0].message).toMatch(/certificate policy/);
    }
    expect(codeOf(await identity.signInWithCard(await cac(cacCa, { policies: [OTHER_POLICY, CAC_POLICY] })))).toBe('OK');
  });
});

describe('CA constraints on the path', () => {
  it('refuses a path longer than a CA’s path length constraint allows', async () => {
    const card = await cac(tooDeep);
    const res = await identity.signInWithCard(card, { chain: [tooDeep] });
    expect(codeOf(res)).toBe('CERTIFICATE_INVALID');
    expect(res.errors?.[0].message).toMatch(/path length/);
  });

  it('refuses a card whose name a CA’s name constraints exclude, and accepts another name from that CA', async () => {
    const jane = await identity.signInWithCard(await cac(constrainedCa));
    expect(codeOf(jane)).toBe('CERTIFICATE_INVALID');
    expect(jane.errors?.[0].message).toMatch(/name constraints/);
    const alex = await identity.signInWithCard(await cac(constrainedCa, { commonName: 'KIM.ALEX.2000000001', keyKind: 'P-256' }));
    expect(alex.data.signInWithSmartCard.account.id).toBe('ac-alex-kim');
  });

  it('refuses a path through a CA without keyCertSign', async () => {
    const noSign = await createIntermediateCa(root, 'CN=Issuer Test CAC CA, O=Portal Tests, C=US', { keyUsage: 0x02 /* cRLSign only */ });
    const res = await identity.signInWithCard(await cac(noSign), { chain: [noSign] });
    // Named like the CAC CA, but the chain builder matches by key: it reaches the root only through this CA.
    expect(codeOf(res)).toBe('CERTIFICATE_INVALID');
    expect(res.errors?.[0].message).toMatch(/may not issue certificates/);
  });
});

describe('revocation fails closed', () => {
  afterEach(() => writeCrls());

  it('refuses a revoked card', async () => {
    const card = await cac(cacCa);
    await writeCrls({ revoked: [card] });
    expect(codeOf(await identity.signInWithCard(card))).toBe('CERTIFICATE_REVOKED');
  });

  it('accepts a CRL past its nextUpdate within the grace period (24 h), refuses after it', async () => {
    const card = await cac(cacCa);
    await writeCrls({ nextUpdate: new Date(Date.now() + DAY) });
    identity.clock.advance(DAY + 23 * 3_600_000);
    try {
      expect(codeOf(await identity.signInWithCard(card))).toBe('OK');
      identity.clock.advance(2 * 3_600_000);
      const res = await identity.signInWithCard(card);
      expect(codeOf(res)).toBe('REVOCATION_UNKNOWN');
      expect(res.errors?.[0].message).toMatch(/out of date/);
    } finally {
      identity.clock.advance(-(DAY + 25 * 3_600_000));
    }
  });

  it('refuses a card whose issuing CA, or a CA above it, has no CRL in the file', async () => {
    const card = await cac(cacCa);
    await writeCrls({ cas: [root, pivCa, otherCa] });
    expect(codeOf(await identity.signInWithCard(card))).toBe('REVOCATION_UNKNOWN');
    await writeCrls({ cas: [cacCa, pivCa, otherCa] });
    const res = await identity.signInWithCard(card);
    expect(codeOf(res)).toBe('REVOCATION_UNKNOWN');
    expect(res.errors?.[0].message).toMatch(/no revocation list of Issuer Test Root/);
  });
});

describe('production', () => {
  const production = (overrides: object = {}) =>
    testConfig({
      production: true,
      // The file's own directory (removed in afterAll): these configs only build trust stores.
      dataDir: dir,
      smartcardCaFile: path.join(dir, 'ca.pem'),
      smartcardCrlFile: crlFile,
      smartcardCacIssuers: [cacCa.cert.subject],
      ...overrides,
    });
  const verify = async (config: ReturnType<typeof testConfig>, card: Issued, chain: Issued[] = []) => {
    const trust = trustStoreFor(config);
    try {
      await verifyCard(parseCard([card, ...chain].map(certificatePem).join('')), trust, new Date());
      return 'OK';
    } catch (e) {
      return (e as { extensions?: { code?: string } }).extensions?.code ?? String(e);
    }
  };

  it('will not start without a CRL file', () => {
    expect(() => trustStoreFor(production({ smartcardCrlFile: undefined }))).toThrow(/SMARTCARD_CRL_FILE/);
  });

  it('refuses a card through an intermediate that has no CRL, and accepts it once there is one', async () => {
    const intermediate = await createIntermediateCa(root, 'CN=Issuer Test Unlisted CA, O=Portal Tests, C=US', { pathLength: 0 });
    const card = await cac(intermediate);
    const config = production({ smartcardCacIssuers: [intermediate.cert.subject] });
    expect(await verify(config, card, [intermediate])).toBe('REVOCATION_UNKNOWN');
    const crls = [await createCrl(root, []), await createCrl(intermediate, [])];
    fs.writeFileSync(crlFile, crls.map((c) => c.toString('pem')).join('\n'));
    try {
      expect(await verify(config, card, [intermediate])).toBe('OK');
    } finally {
      await writeCrls();
    }
  });

  it('names no issuer by default: a PIV card with no SMARTCARD_PIV_ISSUERS is refused', async () => {
    expect(await verify(production(), await issueCard(pivCa, { commonName: 'Someone (PIV Authentication)', uuid: randomUUID() }))).toBe('CERTIFICATE_INVALID');
    expect(await verify(production(), await cac(cacCa))).toBe('OK');
  });
});
