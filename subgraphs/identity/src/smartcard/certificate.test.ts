import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomUUID, webcrypto } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn from '@peculiar/asn1-x509';
import { parseCard, signatureMatches, verifyCard, type VerifiedCard } from './certificate';
import {
  certificatePem,
  CLIENT_AUTH,
  createCrl,
  createIntermediateCa,
  createRootCa,
  EMAIL_PROTECTION,
  issueCard,
  signChallenge,
  SMARTCARD_LOGON,
  type CardOptions,
  type Issued,
  type KeyPair,
} from './pki';
import { TrustStore, type CardRules } from './trust';
import { x509 } from './x509';

/** Every CA of the bundle speaks for every kind of card; no policy; CRLs believed until their nextUpdate. */
const ANY_RULES: CardRules = { issuers: { CAC: 'any', PIV: 'any' }, policyOids: { CAC: [], PIV: [] }, crlGraceMs: 0 };

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const DAY = 86_400_000;

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<{ code: unknown; message: string } | 'OK'> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'OK';
  } catch (e) {
    return { code: (e as { extensions?: { code?: unknown } }).extensions?.code, message: (e as Error).message };
  }
}
const invalid = (message: string) => ({ code: 'CERTIFICATE_INVALID', message });
const NOT_TRUSTED = invalid('The certificate was not issued by a trusted CA.');

/** A certificate made by hand: for the shapes issueCard does not make. */
async function custom(options: { issuer: Issued | null; subject: string; keys?: KeyPair; extensions: x509.Extension[]; notBefore?: Date; notAfter?: Date }): Promise<Issued> {
  const keys = options.keys ?? ((await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as KeyPair);
  const signer = options.issuer?.keys ?? keys;
  const cert = await x509.X509CertificateGenerator.create({
    subject: options.subject,
    issuer: options.issuer ? options.issuer.cert.subject : options.subject,
    publicKey: keys.publicKey,
    signingKey: signer.privateKey,
    signingAlgorithm: signer.privateKey.algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    notBefore: options.notBefore ?? new Date(Date.now() - DAY),
    notAfter: options.notAfter ?? new Date(Date.now() + DAY),
    extensions: options.extensions,
  });
  return { cert, keys };
}
const cardExtensions = () => [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)];

describe('smart-card certificates', () => {
  let dir: string;
  let root: Issued;
  let intermediate: Issued;
  /** Issued by the trusted root but not in the bundle. */
  let unbundled: Issued;
  /** Named like the intermediate, issued by a root nobody trusts. */
  let impostor: Issued;
  let caFile: string;
  let crlFile: string;
  let trust: TrustStore;
  let jane: Issued;

  const card = (options: Partial<CardOptions> = {}, issuer: Issued = intermediate) => issueCard(issuer, { commonName: 'DOE.JANE.A.1000000001', keyKind: 'P-256', ...options });
  const pemOf = (...certs: Issued[]) => certs.map(certificatePem).join('');
  const verify = (pem: string, now = new Date(), store = trust) => verifyCard(parseCard(pem), store, now);
  /** An empty CRL of each CA that issues on the test's paths: every issuing CA needs one. */
  let baseline: { ca: Issued; crl: x509.X509Crl }[] = [];
  /** An empty CRL of `ca` current for a month either side of now, so tests may move the clock. */
  const emptyCrl = (ca: Issued) => createCrl(ca, [], { thisUpdate: new Date(Date.now() - 30 * DAY), nextUpdate: new Date(Date.now() + 30 * DAY) });
  /** Writes `crls`, and the empty baseline CRL of every CA none of them is signed by. */
  const writeCrls = async (...crls: x509.X509Crl[]) => {
    const kept = [];
    for (const b of baseline) {
      let covered = false;
      for (const c of crls) if (c.issuer === b.crl.issuer && (await c.verify({ publicKey: b.ca.cert.publicKey }))) covered = true;
      if (!covered) kept.push(b.crl);
    }
    fs.writeFileSync(crlFile, [...crls, ...kept].map((c) => c.toString('pem')).join('\n'));
  };
  /** Adds `ca` to the CAs that have an empty CRL. */
  const withCrl = async (ca: Issued) => {
    baseline.push({ ca, crl: await emptyCrl(ca) });
    await writeCrls();
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-cert-test-'));
    root = await createRootCa('CN=Unit Root CA, O=Portal Tests, C=US', { keyKind: 'P-256' });
    intermediate = await createIntermediateCa(root, 'CN=Unit ID CA-1, O=Portal Tests, C=US', { keyKind: 'P-256' });
    unbundled = await createIntermediateCa(root, 'CN=Unit ID CA-2, O=Portal Tests, C=US', { keyKind: 'P-256' });
    impostor = await createIntermediateCa(await createRootCa('CN=Impostor Root, C=US', { keyKind: 'P-256' }), 'CN=Unit ID CA-1, O=Portal Tests, C=US', { keyKind: 'P-256' });
    caFile = path.join(dir, 'ca.pem');
    crlFile = path.join(dir, 'crls.pem');
    fs.writeFileSync(caFile, pemOf(intermediate, root));
    for (const ca of [root, intermediate, unbundled]) await withCrl(ca);
    trust = new TrustStore({ rules: ANY_RULES, caFile, crlFile });
    jane = await card();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(() => writeCrls());

  describe('parseCard', () => {
    it('reads the card’s certificate first and any intermediates after it, fingerprinted by the SHA-256 of its DER', () => {
      const parsed = parseCard(`some text before\n${pemOf(jane, unbundled)}trailing`);
      expect(parsed.leaf.serialNumber).toBe(jane.cert.serialNumber);
      expect(parsed.intermediates.map((c) => c.serialNumber)).toEqual([unbundled.cert.serialNumber]);
      expect(parsed.fingerprint).toBe(createHash('sha256').update(Buffer.from(jane.cert.rawData)).digest('base64url'));
      expect(parseCard(pemOf(jane)).intermediates).toEqual([]);
    });

    it('takes up to five certificates and 32,000 characters, no more', async () => {
      expect(parseCard(pemOf(jane, intermediate, intermediate, intermediate, intermediate)).intermediates).toHaveLength(4);
      const notPem = invalid('The certificate is not a PEM X.509 certificate. Send the card’s certificate as PEM ("-----BEGIN CERTIFICATE-----").');
      expect(await refusal(() => parseCard(pemOf(jane, intermediate, intermediate, intermediate, intermediate, intermediate)))).toEqual(notPem);
      const pem = pemOf(jane);
      expect(parseCard(pem + ' '.repeat(32_000 - pem.length)).leaf.serialNumber).toBe(jane.cert.serialNumber);
      expect(await refusal(() => parseCard(pem + ' '.repeat(32_001 - pem.length)))).toEqual(notPem);
      expect(await refusal(() => parseCard(''))).toEqual(notPem);
      expect(await refusal(() => parseCard('MIIB...base64 without armour'))).toEqual(notPem);
    });

    it('refuses a block that is not a well-formed certificate', async () => {
      const broken = '-----BEGIN CERTIFICATE-----\nTUlJQm9rZW4=\n-----END CERTIFICATE-----';
      expect(await refusal(() => parseCard(broken))).toEqual(invalid('The certificate could not be read: it is not a well-formed X.509 certificate.'));
      expect(await refusal(() => parseCard(pemOf(jane) + broken))).toEqual(invalid('The certificate could not be read: it is not a well-formed X.509 certificate.'));
    });
  });

  describe('verifyCard', () => {
    it('accepts a card issued by a trusted CA and names it: a CAC by its EDIPI', async () => {
      const verified = await verify(pemOf(jane));
      expect(verified.identity).toEqual({ kind: 'CAC', edipi: '1000000001' });
      expect(verified.leaf.serialNumber).toBe(jane.cert.serialNumber);
      expect(verified.fingerprint).toBe(parseCard(pemOf(jane)).fingerprint);
      expect(verified.publicKey.asymmetricKeyType).toBe('ec');
    });

    it('accepts a card without the basic-constraints extension (optional for an end entity)', async () => {
      const bare = await card({ basicConstraints: false });
      expect(bare.cert.getExtension(x509.BasicConstraintsExtension)).toBeNull();
      expect((await verify(pemOf(bare))).identity).toEqual({ kind: 'CAC', edipi: '1000000001' });
    });

    it('accepts an RSA card of 2048 bits', async () => {
      const rsa = await card({ keyKind: 'RSA' });
      const verified = await verify(pemOf(rsa));
      expect(verified.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    });

    it('refuses other keys: RSA under 2048 bits, EC other than P-256', async () => {
      const weak = await custom({
        issuer: intermediate,
        subject: 'CN=DOE.JANE.A.1000000001',
        keys: (await webcrypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 1024 }, true, ['sign', 'verify'])) as KeyPair,
        extensions: cardExtensions(),
      });
      const p384 = await custom({
        issuer: intermediate,
        subject: 'CN=DOE.JANE.A.1000000001',
        keys: (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify'])) as KeyPair,
        extensions: cardExtensions(),
      });
      const unsupported = invalid('The card’s key must be RSA (2048 bits or more) or EC P-256.');
      expect(await refusal(verify(pemOf(weak)))).toEqual(unsupported);
      expect(await refusal(verify(pemOf(p384)))).toEqual(unsupported);
    });

    it('follows intermediates sent after the card up to a trusted CA', async () => {
      const viaUnbundled = await card({}, unbundled);
      expect((await verify(pemOf(viaUnbundled, unbundled))).identity).toEqual({ kind: 'CAC', edipi: '1000000001' });
      expect(await refusal(verify(pemOf(viaUnbundled)))).toEqual(NOT_TRUSTED);
      // Sent in any order, with unrelated certificates between.
      expect((await verify(pemOf(viaUnbundled, jane, unbundled))).identity.kind).toBe('CAC');
    });

    it('refuses a card of an untrusted CA, even one named like a trusted CA and sent along', async () => {
      const fake = await card({}, impostor);
      expect(await refusal(verify(pemOf(fake)))).toEqual(NOT_TRUSTED);
      expect(await refusal(verify(pemOf(fake, impostor)))).toEqual(NOT_TRUSTED);
    });

    it('refuses a card of a CA named like a trusted one but with another kind of key, and ignores its CRLs', async () => {
      const rsaImpostor = await createIntermediateCa(await createRootCa('CN=RSA Impostor Root, C=US'), 'CN=Unit ID CA-1, O=Portal Tests, C=US');
      const fake = await card({}, rsaImpostor);
      expect(await refusal(verify(pemOf(fake)))).toEqual(NOT_TRUSTED);
      await writeCrls(await createCrl(rsaImpostor, [jane.cert]));
      expect((await verify(pemOf(jane))).identity.kind).toBe('CAC');
    });

    it('takes as issuer only a CA allowed to sign certificates', async () => {
      // A card's certificate "issuing" another: the name and the signature match, but it is no CA.
      const holder = await card({ commonName: 'LEE.SAM.2000000002' });
      const issuedByCard = await custom({ issuer: holder, subject: 'CN=DOE.JANE.A.1000000001', extensions: cardExtensions() });
      expect(await refusal(verify(pemOf(issuedByCard, holder)))).toEqual(invalid('A certificate on the card’s path (CN=LEE.SAM.2000000002, OU=DoD, O=U.S. Government, C=US) is not a CA certificate.'));
      // A certificate without the basic-constraints extension is no CA either, whatever its key usage.
      const noConstraints = await custom({ issuer: root, subject: 'CN=Unit Unconstrained, O=Portal Tests, C=US', extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)] });
      const issuedByUnconstrained = await custom({ issuer: noConstraints, subject: 'CN=DOE.JANE.A.1000000001', extensions: cardExtensions() });
      expect(await refusal(verify(pemOf(issuedByUnconstrained, noConstraints)))).toEqual(invalid('A certificate on the card’s path (CN=Unit Unconstrained, O=Portal Tests, C=US) is not a CA certificate.'));
      // A CA whose key usage lacks keyCertSign.
      const crlOnly = await custom({
        issuer: root,
        subject: 'CN=Unit CRL Signer, O=Portal Tests, C=US',
        extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.cRLSign, true)],
      });
      const issuedByCrlSigner = await custom({ issuer: crlOnly, subject: 'CN=DOE.JANE.A.1000000001', extensions: cardExtensions() });
      expect(await refusal(verify(pemOf(issuedByCrlSigner, crlOnly)))).toEqual(invalid('A CA on the card’s path (CN=Unit CRL Signer, O=Portal Tests, C=US) may not issue certificates (key usage).'));
      // A CA without key usage at all may sign.
      const noUsage = await custom({ issuer: root, subject: 'CN=Unit Plain CA, O=Portal Tests, C=US', extensions: [new x509.BasicConstraintsExtension(true, 0, true)] });
      await withCrl(noUsage);
      const issuedByPlain = await custom({ issuer: noUsage, subject: 'CN=DOE.JANE.A.1000000001', extensions: cardExtensions() });
      expect((await verify(pemOf(issuedByPlain, noUsage))).identity.kind).toBe('CAC');
    });

    it('refuses a CA certificate and a self-signed certificate as a card', async () => {
      expect(await refusal(verify(pemOf(intermediate)))).toEqual(invalid('This is a CA certificate, not a card’s certificate.'));
      const self = await custom({ issuer: null, subject: 'CN=DOE.JANE.A.1000000001', extensions: cardExtensions() });
      expect(await refusal(verify(pemOf(self)))).toEqual(invalid('The certificate is self-signed: a card’s certificate must be issued by a trusted CA.'));
    });

    it('refuses a card outside its dates, and a card whose CA is outside its dates, to the second', async () => {
      const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
      const notAfter = new Date(notBefore.getTime() + 10 * DAY);
      const dated = await card({ notBefore, notAfter });
      expect((await verify(pemOf(dated), notBefore)).identity.kind).toBe('CAC');
      expect((await verify(pemOf(dated), notAfter)).identity.kind).toBe('CAC');
      expect(await refusal(verify(pemOf(dated), new Date(notBefore.getTime() - 1)))).toEqual({
        code: 'CERTIFICATE_EXPIRED',
        message: `The card’s certificate is not valid until ${notBefore.toISOString()}.`,
      });
      expect(await refusal(verify(pemOf(dated), new Date(notAfter.getTime() + 1)))).toEqual({
        code: 'CERTIFICATE_EXPIRED',
        message: `The card’s certificate expired on ${notAfter.toISOString()}. Renew the card.`,
      });
      const oldCa = await createIntermediateCa(root, 'CN=Unit Old CA, O=Portal Tests, C=US', { keyKind: 'P-256', notBefore, notAfter });
      await withCrl(oldCa);
      const underOld = await card({}, oldCa);
      expect(await refusal(verify(pemOf(underOld, oldCa), new Date(notAfter.getTime() + 1000)))).toEqual({
        code: 'CERTIFICATE_EXPIRED',
        message: `The issuing CA’s certificate expired on ${notAfter.toISOString()}. Renew the card.`,
      });
      const futureCa = await createIntermediateCa(root, 'CN=Unit Future CA, O=Portal Tests, C=US', { keyKind: 'P-256', notBefore: new Date(notBefore.getTime() + DAY) });
      await withCrl(futureCa);
      const underFuture = await card({ notBefore }, futureCa);
      expect(await refusal(verify(pemOf(underFuture, futureCa), new Date(notBefore.getTime() + 1000)))).toEqual({
        code: 'CERTIFICATE_EXPIRED',
        message: `The issuing CA’s certificate is not valid until ${new Date(notBefore.getTime() + DAY).toISOString()}.`,
      });
    });

    it('needs the digital-signature key usage', async () => {
      const noSignature = invalid('The certificate is not for digital signatures (key usage), so it cannot sign in.');
      expect(await refusal(verify(pemOf(await card({ keyUsage: null }))))).toEqual(noSignature);
      expect(await refusal(verify(pemOf(await card({ keyUsage: x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.nonRepudiation }))))).toEqual(noSignature);
      expect((await verify(pemOf(await card({ keyUsage: x509.KeyUsageFlags.digitalSignature })))).identity.kind).toBe('CAC');
    });

    it('needs an extended key usage for sign-in when one is named', async () => {
      const notForSignIn = invalid('The certificate is not for client authentication (extended key usage), so it cannot sign in.');
      expect(await refusal(verify(pemOf(await card({ extendedKeyUsage: [SERVER_AUTH] }))))).toEqual(notForSignIn);
      for (const usages of [[CLIENT_AUTH], [EMAIL_PROTECTION], [SMARTCARD_LOGON], [SERVER_AUTH, SMARTCARD_LOGON]]) {
        expect([usages, (await verify(pemOf(await card({ extendedKeyUsage: usages })))).identity.kind]).toEqual([usages, 'CAC']);
      }
      expect((await verify(pemOf(await card({ extendedKeyUsage: null })))).identity.kind).toBe('CAC');
    });

    it('refuses a card its CA’s CRL revokes; a CRL signed by another key revokes nothing', async () => {
      const other = await card({ commonName: 'ROE.JOHN.B.1000000002' });
      await writeCrls(await createCrl(intermediate, [jane.cert]));
      expect(await refusal(verify(pemOf(jane)))).toEqual({ code: 'CERTIFICATE_REVOKED', message: 'This card’s certificate has been revoked. Contact your ID card office.' });
      expect((await verify(pemOf(other))).identity).toEqual({ kind: 'CAC', edipi: '1000000002' });
      await writeCrls(await createCrl(impostor, [jane.cert]));
      expect((await verify(pemOf(jane))).identity.kind).toBe('CAC');
      await writeCrls(await createCrl(impostor, []), await createCrl(intermediate, [other.cert, jane.cert]));
      expect(await refusal(verify(pemOf(jane)))).toMatchObject({ code: 'CERTIFICATE_REVOKED' });
    });

    it('refuses a card whose issuing CA is revoked by its own CA', async () => {
      const viaUnbundled = await card({}, unbundled);
      await writeCrls(await createCrl(root, [unbundled.cert]));
      expect(await refusal(verify(pemOf(viaUnbundled, unbundled)))).toEqual({ code: 'CERTIFICATE_REVOKED', message: 'The CA that issued this card has been revoked.' });
      // The same serial in a CRL of another CA revokes nothing.
      await writeCrls(await createCrl(intermediate, [unbundled.cert]));
      expect((await verify(pemOf(viaUnbundled, unbundled))).identity.kind).toBe('CAC');
    });

    it('refuses a card whose revocation cannot be checked: no CRL of an issuing CA, or only an out-of-date one past the grace period', async () => {
      const unknown = (why: string) => ({ code: 'REVOCATION_UNKNOWN', message: `Whether this card has been revoked cannot be checked: ${why}. Call the portal help desk.` });
      // Only the root's and the other CAs' CRLs: none of the card's issuer.
      fs.writeFileSync(crlFile, baseline.filter((b) => b.ca !== intermediate).map((b) => b.crl.toString('pem')).join('\n'));
      expect(await refusal(verify(pemOf(jane)))).toEqual(unknown('there is no revocation list of Unit ID CA-1'));
      // A CRL of the issuer signed by another key is none.
      fs.writeFileSync(crlFile, [...baseline.filter((b) => b.ca !== intermediate).map((b) => b.crl), await createCrl(impostor, [])].map((c) => c.toString('pem')).join('\n'));
      expect(await refusal(verify(pemOf(jane)))).toEqual(unknown('there is no revocation list of Unit ID CA-1'));
      // Due an hour ago: refused at once without grace; with two hours' grace accepted up to the millisecond it ends.
      const nextUpdate = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
      await writeCrls(await createCrl(intermediate, [], { thisUpdate: new Date(nextUpdate.getTime() - DAY), nextUpdate }));
      expect(await refusal(verify(pemOf(jane)))).toEqual(unknown('the revocation list of Unit ID CA-1 is out of date'));
      const graceful = new TrustStore({ rules: { ...ANY_RULES, crlGraceMs: 2 * 3_600_000 }, caFile, crlFile });
      const end = new Date(nextUpdate.getTime() + 2 * 3_600_000);
      expect((await verify(pemOf(jane), end, graceful)).identity.kind).toBe('CAC');
      expect(await refusal(verify(pemOf(jane), new Date(end.getTime() + 1), graceful))).toEqual(unknown('the revocation list of Unit ID CA-1 is out of date'));
      // The newest CRL (by thisUpdate) is the one whose date counts, in any order in the file.
      const current = await createCrl(intermediate, []);
      const stale = await createCrl(intermediate, [], { thisUpdate: new Date(nextUpdate.getTime() - DAY), nextUpdate });
      await writeCrls(stale, current);
      expect((await verify(pemOf(jane))).identity.kind).toBe('CAC');
      await writeCrls(current, stale);
      expect((await verify(pemOf(jane))).identity.kind).toBe('CAC');
    });

    it('takes no CRL from a CA whose key usage does not include CRL signing', async () => {
      const noCrlSign = await custom({
        issuer: root,
        subject: 'CN=Unit No CRL CA, O=Portal Tests, C=US',
        extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
      });
      const issued = await custom({ issuer: noCrlSign, subject: 'CN=DOE.JANE.A.1000000001', extensions: cardExtensions() });
      await writeCrls(await createCrl(noCrlSign, []));
      expect(await refusal(verify(pemOf(issued, noCrlSign)))).toEqual({
        code: 'REVOCATION_UNKNOWN',
        message: 'Whether this card has been revoked cannot be checked: there is no revocation list of Unit No CRL CA. Call the portal help desk.',
      });
    });

    it('reads a card only as a CA named for its kind may vouch: by subject DN in either order, or by SHA-256 fingerprint', async () => {
      const rulesWith = (issuers: CardRules['issuers']) => new TrustStore({ rules: { ...ANY_RULES, issuers }, caFile, crlFile });
      const fingerprint = createHash('sha256').update(Buffer.from(intermediate.cert.rawData)).digest('hex');
      const colons = fingerprint.toUpperCase().match(/../g)!.join(':');
      for (const named of ['CN=Unit ID CA-1, O=Portal Tests, C=US', 'C=US, O=Portal Tests, CN=Unit ID CA-1', fingerprint, colons]) {
        expect([named, (await verify(pemOf(jane), new Date(), rulesWith({ CAC: ['CN=Other', named], PIV: [] }))).identity.kind]).toEqual([named, 'CAC']);
      }
      const notFrom = (kind: string) => invalid(`The CA that issued this certificate (CN=Unit ID CA-1, O=Portal Tests, C=US) is not one this portal accepts ${kind} cards from.`);
      for (const named of ['CN=Unit ID CA-2, O=Portal Tests, C=US', 'CN=Unit ID CA-1', fingerprint.replace(/^./, fingerprint[0] === '0' ? '1' : '0'), 'not a name ===', '']) {
        expect([named, await refusal(verify(pemOf(jane), new Date(), rulesWith({ CAC: [named], PIV: ['any CA'] })))]).toEqual([named, notFrom('CAC')]);
      }
      // A CA named for PIV cards does not vouch for a CAC, nor one named for CACs for a PIV card.
      expect(await refusal(verify(pemOf(jane), new Date(), rulesWith({ CAC: [], PIV: [fingerprint] })))).toEqual(notFrom('CAC'));
      const piv = await card({ commonName: 'Jane Doe', uuid: randomUUID() });
      expect(await refusal(verify(pemOf(piv), new Date(), rulesWith({ CAC: [fingerprint], PIV: [] })))).toEqual(notFrom('PIV'));
      expect((await verify(pemOf(piv), new Date(), rulesWith({ CAC: [], PIV: [fingerprint] }))).identity.kind).toBe('PIV');
    });

    it('needs a certificate policy the portal accepts for the card’s kind, when it names any', async () => {
      const CAC_POLICY = '2.16.840.1.101.2.1.11.42';
      const PIV_POLICY = '2.16.840.1.101.3.2.1.3.13';
      const store = new TrustStore({ rules: { ...ANY_RULES, policyOids: { CAC: [CAC_POLICY], PIV: [PIV_POLICY] } }, caFile, crlFile });
      const refused = (kind: string) => invalid(`The certificate does not carry a certificate policy this portal accepts for ${kind} cards.`);
      expect(await refusal(verify(pemOf(jane), new Date(), store))).toEqual(refused('CAC'));
      expect(await refusal(verify(pemOf(await card({ policies: [PIV_POLICY] })), new Date(), store))).toEqual(refused('CAC'));
      expect((await verify(pemOf(await card({ policies: ['1.2.3.4', CAC_POLICY] })), new Date(), store)).identity.kind).toBe('CAC');
      const uuid = randomUUID();
      expect(await refusal(verify(pemOf(await card({ commonName: 'Jane Doe', uuid, policies: [CAC_POLICY] })), new Date(), store))).toEqual(refused('PIV'));
      expect((await verify(pemOf(await card({ commonName: 'Jane Doe', uuid, policies: [PIV_POLICY] })), new Date(), store)).identity).toEqual({ kind: 'PIV', uuid });
    });

    it('holds every CA on the path to its path length constraint, the nearest exceeded one named first', async () => {
      // Root (path length 1) → A → B → card: two CAs below the root.
      const short = await createIntermediateCa(root, 'CN=Unit Short CA, O=Portal Tests, C=US', { keyKind: 'P-256', pathLength: 0 });
      const long = await createIntermediateCa(root, 'CN=Unit Long CA, O=Portal Tests, C=US', { keyKind: 'P-256', pathLength: 1 });
      const underShort = await createIntermediateCa(short, 'CN=Unit Under Short CA, O=Portal Tests, C=US', { keyKind: 'P-256' });
      const underLong = await createIntermediateCa(long, 'CN=Unit Under Long CA, O=Portal Tests, C=US', { keyKind: 'P-256' });
      for (const ca of [short, long, underShort, underLong]) await withCrl(ca);
      // The CA nearest the card that is exceeded is named: A first, then the root.
      expect(await refusal(verify(pemOf(await card({}, underShort), underShort, short)))).toEqual(
        invalid('The card’s path is longer than CN=Unit Short CA, O=Portal Tests, C=US allows (path length constraint).'),
      );
      expect(await refusal(verify(pemOf(await card({}, underLong), underLong, long)))).toEqual(
        invalid('The card’s path is longer than CN=Unit Root CA, O=Portal Tests, C=US allows (path length constraint).'),
      );
      // One CA below the root, at its limit exactly: accepted.
      expect((await verify(pemOf(await card({}, short), short))).identity.kind).toBe('CAC');
    });

    it('keeps the card’s names inside a CA’s name constraints: permitted and excluded subtrees of DNs', async () => {
      const permits = await createIntermediateCa(root, 'CN=Unit Permitting CA, O=Portal Tests, C=US', { keyKind: 'P-256', nameConstraints: { permitted: ['C=US, O=Portal Tests'] } });
      const excludes = await createIntermediateCa(root, 'CN=Unit Excluding CA, O=Portal Tests, C=US', { keyKind: 'P-256', nameConstraints: { excluded: ['C=US, O=Portal Tests, OU=Banned'] } });
      for (const ca of [permits, excludes]) await withCrl(ca);
      const outside = (ca: string) => invalid(`A name in the card’s path is outside what ${ca} may certify (name constraints).`);
      const subject = (rest: string) => `C=US, ${rest}, CN=DOE.JANE.A.1000000001`;
      expect((await verify(pemOf(await card({ subject: subject('O=Portal Tests') }, permits), permits))).identity).toEqual({ kind: 'CAC', edipi: '1000000001' });
      expect((await verify(pemOf(await card({ subject: subject('O=Portal Tests, OU=Fine') }, permits), permits))).identity.kind).toBe('CAC');
      expect(await refusal(verify(pemOf(await card({ subject: subject('O=Elsewhere') }, permits), permits)))).toEqual(outside('CN=Unit Permitting CA, O=Portal Tests, C=US'));
      // A subtree is the name's first RDNs: the same RDNs elsewhere in the name do not count.
      expect(await refusal(verify(pemOf(await card({ subject: 'C=CA, O=Portal Tests, CN=DOE.JANE.A.1000000001' }, permits), permits)))).toEqual(outside('CN=Unit Permitting CA, O=Portal Tests, C=US'));
      expect(await refusal(verify(pemOf(await card({ subject: subject('O=Portal Tests, OU=Banned') }, excludes), excludes)))).toEqual(outside('CN=Unit Excluding CA, O=Portal Tests, C=US'));
      expect((await verify(pemOf(await card({ subject: subject('O=Portal Tests, OU=Fine') }, excludes), excludes))).identity.kind).toBe('CAC');
      // Shorter than the subtree: not within it.
      expect((await verify(pemOf(await card({ subject: 'C=US, CN=DOE.JANE.A.1000000001' }, excludes), excludes))).identity.kind).toBe('CAC');
      expect(await refusal(verify(pemOf(await card({ subject: 'C=US, CN=DOE.JANE.A.1000000001' }, permits), permits)))).toEqual(outside('CN=Unit Permitting CA, O=Portal Tests, C=US'));
    });

    it('checks no revocation without a CRL file', async () => {
      await writeCrls(await createCrl(intermediate, [jane.cert]));
      const noCrls = new TrustStore({ rules: ANY_RULES, caFile });
      expect((await verify(pemOf(jane), new Date(), noCrls)).identity.kind).toBe('CAC');
    });
  });

  describe('identity (through verifyCard)', () => {
    const named = async (commonName: string, uuid?: string) => (await issueCard(intermediate, { commonName, keyKind: 'P-256', uuid })).cert;
    /** The identity verifyCard gives a card of the trusted intermediate. */
    const identify = async (cert: x509.X509Certificate) => (await verify(certificatePem(cert))).identity;

    it('names a CAC by the EDIPI ending a LAST.FIRST.MIDDLE.EDIPI or LAST.FIRST.EDIPI common name', async () => {
      expect(await identify(await named('DOE.JANE.A.1000000001'))).toEqual({ kind: 'CAC', edipi: '1000000001' });
      expect(await identify(await named('KIM.ALEX.2000000001'))).toEqual({ kind: 'CAC', edipi: '2000000001' });
    });

    it('names a PIV card by the urn:uuid: in its alternative name, in lower case', async () => {
      const uuid = randomUUID();
      expect(await identify(await named('John B Roe (PIV Authentication)', uuid.toUpperCase()))).toEqual({ kind: 'PIV', uuid });
      // A CAC-like name without its EDIPI shape falls back to the PIV name.
      expect(await identify(await named('DOE.JANE.A.B.1000000001', uuid))).toEqual({ kind: 'PIV', uuid });
    });

    it('refuses anything else', async () => {
      const neither = invalid('The certificate is neither a CAC (subject LAST.FIRST.MIDDLE.EDIPI) nor a PIV card (urn:uuid: alternative name).');
      for (const cn of ['JANE.1000000001', 'DOE.JANE.A.B.1000000001', 'DOE.JANE.A.100000001', 'DOE.JANE.A.10000000012', 'DOE.JANE.A.100000000x', 'DOE..A.1000000001', 'DOE. .1000000001', '1000000001', 'John Roe']) {
        expect([cn, await refusal(async () => identify(await named(cn)))]).toEqual([cn, neither]);
      }
      const badUuid = await issueCard(intermediate, { commonName: 'PIV', keyKind: 'P-256', uuid: 'not-a-uuid' });
      expect(await refusal(() => identify(badUuid.cert))).toEqual(neither);
      const longUuid = await issueCard(intermediate, { commonName: 'PIV', keyKind: 'P-256', uuid: `${randomUUID()}0` });
      expect(await refusal(() => identify(longUuid.cert))).toEqual(neither);
      const otherUrl = await custom({
        issuer: intermediate,
        subject: 'CN=PIV',
        extensions: [...cardExtensions(), new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `https://example.org/${randomUUID()}` }, { type: 'dns', value: `urn:uuid:${randomUUID()}` }])],
      });
      expect(await refusal(() => identify(otherUrl.cert))).toEqual(neither);
    });

    it('takes the first urn:uuid: name that is a UUID', async () => {
      const uuid = randomUUID();
      const two = await custom({
        issuer: intermediate,
        subject: 'CN=PIV',
        extensions: [...cardExtensions(), new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'urn:uuid:nope' }, { type: 'url', value: `URN:UUID:${uuid}` }])],
      });
      expect(await identify(two.cert)).toEqual({ kind: 'PIV', uuid });
    });

    it('takes a urn:uuid: name only whole: not inside another URI, not followed by another line', async () => {
      const uuid = randomUUID();
      const piv = async (value: string) =>
        refusal(identify((await custom({ issuer: intermediate, subject: 'CN=PIV', extensions: [...cardExtensions(), new x509.SubjectAlternativeNameExtension([{ type: 'url', value }])] })).cert));
      const neither = invalid('The certificate is neither a CAC (subject LAST.FIRST.MIDDLE.EDIPI) nor a PIV card (urn:uuid: alternative name).');
      expect(await piv(`https://example.test/urn:uuid:${uuid}`)).toEqual(neither);
      expect(await piv(`urn:uuid:${uuid}\nurn:uuid:x`)).toEqual(neither);
    });
  });

  describe('signatureMatches', () => {
    let ec: VerifiedCard;
    let rsa: VerifiedCard;
    let rsaCard: Issued;
    beforeAll(async () => {
      ec = await verify(pemOf(jane));
      rsaCard = await card({ keyKind: 'RSA' });
      rsa = await verify(pemOf(rsaCard));
    });

    it('accepts the card’s signature over the challenge: DER ECDSA or RSASSA-PKCS1-v1_5, SHA-256', () => {
      expect(signatureMatches(ec, 'challenge-1', signChallenge(jane.keys, 'challenge-1'))).toBe(true);
      expect(signatureMatches(rsa, 'challenge-1', signChallenge(rsaCard.keys, 'challenge-1'))).toBe(true);
    });

    it('refuses a signature over another challenge, by another key, or in another encoding', async () => {
      expect(signatureMatches(ec, 'challenge-1', signChallenge(jane.keys, 'challenge-2'))).toBe(false);
      expect(signatureMatches(rsa, 'challenge-1', signChallenge(rsaCard.keys, 'challenge-2'))).toBe(false);
      expect(signatureMatches(ec, 'challenge-1', signChallenge((await card()).keys, 'challenge-1'))).toBe(false);
      const p1363 = Buffer.from(await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, jane.keys.privateKey, Buffer.from('challenge-1'))).toString('base64');
      expect(signatureMatches(ec, 'challenge-1', p1363)).toBe(false);
    });

    it('refuses an empty, an oversized or a garbage signature without throwing', () => {
      expect(signatureMatches(ec, 'challenge-1', '')).toBe(false);
      expect(signatureMatches(rsa, 'challenge-1', Buffer.alloc(1025, 1).toString('base64'))).toBe(false);
      expect(signatureMatches(ec, 'challenge-1', Buffer.alloc(1024, 1).toString('base64'))).toBe(false);
      expect(signatureMatches(rsa, 'challenge-1', Buffer.alloc(256, 1).toString('base64'))).toBe(false);
    });
  });
});

/**
 * CA constraints on paths the trusted test root (path length 1, no name
 * constraints) leaves no room for: under a root without a path length limit,
 * with no CRL file (revocation is tested above).
 */
describe('smart-card certificates: CA constraints under an unconstrained root', () => {
  let dir: string;
  let root: Issued;
  let trust: TrustStore;
  const O = 'O=Portal Tests, C=US';
  const pemOf = (...certs: Issued[]) => certs.map(certificatePem).join('');
  const verify = (...certs: Issued[]) => verifyCard(parseCard(pemOf(...certs)), trust, new Date());
  const outside = (ca: Issued) => invalid(`A name in the card’s path is outside what ${ca.cert.subject} may certify (name constraints).`);
  const cac = { kind: 'CAC', edipi: '1000000001' };

  /** A CA issued by `issuer` with these extensions besides basic constraints (path length `pathLength`), key usage and key identifiers. */
  async function ca(issuer: Issued, subject: string, more: x509.Extension[] = [], pathLength?: number): Promise<Issued> {
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as KeyPair;
    return custom({
      issuer,
      subject,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, pathLength, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
        ...more,
      ],
    });
  }
  /** A nameConstraints extension of these subtrees. */
  const constraints = (permitted: asn.GeneralName[], excluded: asn.GeneralName[] = []) =>
    new x509.Extension(
      asn.id_ce_nameConstraints,
      true,
      AsnConvert.serialize(
        new asn.NameConstraints({
          permittedSubtrees: permitted.length ? new asn.GeneralSubtrees(permitted.map((base) => new asn.GeneralSubtree({ base }))) : undefined,
          excludedSubtrees: excluded.length ? new asn.GeneralSubtrees(excluded.map((base) => new asn.GeneralSubtree({ base }))) : undefined,
        }),
      ),
    );
  const dn = (name: string) => new asn.GeneralName({ directoryName: AsnConvert.parse(new x509.Name(name).toArrayBuffer(), asn.Name) });
  /** A CAC card of `issuer`, with these alternative names. */
  const cardOf = async (issuer: Issued, names: x509.JsonGeneralName[] = [], subject = `C=US, O=Portal Tests, CN=DOE.JANE.A.1000000001`) =>
    custom({
      issuer,
      subject,
      extensions: [
        ...cardExtensions(),
        await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
        ...(names.length ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      ],
    });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-cert-test-'));
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as KeyPair;
    root = await custom({
      issuer: null,
      subject: `CN=Unit Open Root, ${O}`,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const caFile = path.join(dir, 'ca.pem');
    fs.writeFileSync(caFile, pemOf(root));
    trust = new TrustStore({ rules: ANY_RULES, caFile });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('counts only the CAs below a path length limit that are not self-issued', async () => {
    // A (limit 1) → B → card: one CA below A, at its limit.
    const a = await ca(root, `CN=Unit Limit One CA, ${O}`, [], 1);
    const b = await ca(a, `CN=Unit Below Limit CA, ${O}`, [], 0);
    expect((await verify(await cardOf(b), b, a)).identity).toEqual(cac);
    // A (limit 0) → A again, a new key under the same name (self-issued) → card: not counted.
    const zero = await ca(root, `CN=Unit Rollover CA, ${O}`, [], 0);
    const rolled = await ca(zero, zero.cert.subject, [], 0);
    expect(rolled.cert.subject).toBe(rolled.cert.issuer);
    expect((await verify(await cardOf(rolled), rolled, zero)).identity).toEqual(cac);
    // A (limit 0) → another CA → card: refused.
    const other = await ca(zero, `CN=Unit Not Rolled CA, ${O}`, [], 0);
    expect(await refusal(verify(await cardOf(other), other, zero))).toEqual(invalid(`The card’s path is longer than ${zero.cert.subject} allows (path length constraint).`));
  });

  it('holds a CA below a name-constrained CA to its constraints, unless it is self-issued; the card always', async () => {
    // The constrained CA's own name is outside its subtree: the constraints are for the names below it.
    const constrained = await ca(root, `CN=Unit Constrained CA, ${O}`, [constraints([dn('C=US, O=Portal Tests')])]);
    const inside = await ca(constrained, 'C=US, O=Portal Tests, CN=Unit Inside CA', [], 0);
    const outsideCa = await ca(constrained, 'C=US, O=Elsewhere, CN=Unit Outside CA', [], 0);
    expect((await verify(await cardOf(inside), inside, constrained)).identity).toEqual(cac);
    expect(await refusal(verify(await cardOf(outsideCa), outsideCa, constrained))).toEqual(outside(constrained));
    // A self-issued CA carries the constrained CA's own name: exempt.
    const rolled = await ca(constrained, constrained.cert.subject, [], 0);
    expect((await verify(await cardOf(rolled), rolled, constrained)).identity).toEqual(cac);
    // A card named like its CA is self-issued too, but a card's names are never exempt.
    const namedLikeCa = await cardOf(constrained, [], constrained.cert.subject);
    expect(namedLikeCa.cert.subject).toBe(namedLikeCa.cert.issuer);
    expect(await refusal(verify(namedLikeCa, constrained))).toEqual(outside(constrained));
  });

  it('holds the alternative names of the card and of a CA below to the constraints', async () => {
    const constrained = await ca(root, `CN=Unit SAN Constrained CA, ${O}`, [constraints([dn('C=US, O=Portal Tests')])]);
    // A directory name outside the subtree in the card's alternative names.
    expect(await refusal(verify(await cardOf(constrained, [{ type: 'dn', value: 'C=US, O=Elsewhere, CN=Jane' }]), constrained))).toEqual(outside(constrained));
    expect((await verify(await cardOf(constrained, [{ type: 'dn', value: 'C=US, O=Portal Tests, CN=Jane' }]), constrained)).identity).toEqual(cac);
    // The subtree itself is within it; a name the subtree starts with, shorter than it, is not.
    expect((await verify(await cardOf(constrained, [{ type: 'dn', value: 'C=US, O=Portal Tests' }]), constrained)).identity).toEqual(cac);
    const excluding = await ca(root, `CN=Unit SAN Excluding CA, ${O}`, [constraints([], [dn('C=US, O=Portal Tests, OU=Banned')])]);
    expect((await verify(await cardOf(excluding, [{ type: 'dn', value: 'C=US, O=Portal Tests' }]), excluding)).identity).toEqual(cac);
    // In any one of several permitted subtrees of its form.
    const two = await ca(root, `CN=Unit Two Subtrees CA, ${O}`, [constraints([dn('C=US, O=Elsewhere'), dn('C=US, O=Portal Tests')])]);
    expect((await verify(await cardOf(two), two)).identity).toEqual(cac);
    // A PIV card with an empty subject has no directory name to hold to DN constraints.
    const uuid = randomUUID();
    const noSubject = await cardOf(constrained, [{ type: 'url', value: `urn:uuid:${uuid}` }], '');
    expect(noSubject.cert.subject).toBe('');
    expect((await verify(noSubject, constrained)).identity).toEqual({ kind: 'PIV', uuid });
    // A form the constraints do not restrict (a URI): allowed.
    expect((await verify(await cardOf(constrained, [{ type: 'url', value: 'https://elsewhere.test/jane' }]), constrained)).identity).toEqual(cac);
    // A CA below, inside by subject, outside by its alternative name.
    const sub = await ca(constrained, 'C=US, O=Portal Tests, CN=Unit SAN Sub CA', [new x509.SubjectAlternativeNameExtension([{ type: 'dn', value: 'C=US, O=Elsewhere, CN=Sub' }])], 0);
    expect(await refusal(verify(await cardOf(sub), sub, constrained))).toEqual(outside(constrained));
  });

  it('holds e-mail addresses, DNS names and URIs to constraints of their form', async () => {
    const caWith = (name: string, permitted: asn.GeneralName[], excluded: asn.GeneralName[] = []) => ca(root, `CN=${name}, ${O}`, [constraints(permitted, excluded)]);
    /** True when accepted, false when refused for its names, and any other answer as it is. */
    const accepts = async (issuer: Issued, names: x509.JsonGeneralName[]) => {
      const answer = await refusal(verify(await cardOf(issuer, names), issuer));
      return answer === 'OK' || (answer.message === outside(issuer).message ? false : answer);
    };

    const host = await caWith('Unit Mail Host CA', [new asn.GeneralName({ rfc822Name: 'portal.test' })]);
    expect(await accepts(host, [{ type: 'email', value: 'jane@portal.test' }])).toBe(true);
    expect(await accepts(host, [{ type: 'email', value: 'Jane@PORTAL.test' }])).toBe(true);
    expect(await accepts(host, [{ type: 'email', value: 'jane@mail.portal.test' }])).toBe(false);
    expect(await accepts(host, [{ type: 'email', value: 'portal.test@elsewhere.test' }])).toBe(false);
    const domain = await caWith('Unit Mail Domain CA', [new asn.GeneralName({ rfc822Name: '.portal.test' })]);
    expect(await accepts(domain, [{ type: 'email', value: 'jane@mail.portal.test' }])).toBe(true);
    expect(await accepts(domain, [{ type: 'email', value: 'jane@portal.test' }])).toBe(false);
    const mailbox = await caWith('Unit Mailbox CA', [new asn.GeneralName({ rfc822Name: 'Jane@portal.test' })]);
    expect(await accepts(mailbox, [{ type: 'email', value: 'jane@portal.test' }])).toBe(true);
    expect(await accepts(mailbox, [{ type: 'email', value: 'john@portal.test' }])).toBe(false);

    const dns = await caWith('Unit DNS CA', [new asn.GeneralName({ dNSName: 'portal.test' })], [new asn.GeneralName({ dNSName: 'bad.portal.test' })]);
    expect(await accepts(dns, [{ type: 'dns', value: 'portal.test' }])).toBe(true);
    expect(await accepts(dns, [{ type: 'dns', value: 'www.PORTAL.test' }])).toBe(true);
    expect(await accepts(dns, [{ type: 'dns', value: 'evilportal.test' }])).toBe(false);
    expect(await accepts(dns, [{ type: 'dns', value: 'x.bad.portal.test' }])).toBe(false);
    expect(await accepts(dns, [{ type: 'dns', value: 'portal.test' }, { type: 'dns', value: 'elsewhere.test' }])).toBe(false);
    const dnsDomain = await caWith('Unit DNS Domain CA', [new asn.GeneralName({ dNSName: '.portal.test' })]);
    expect(await accepts(dnsDomain, [{ type: 'dns', value: 'www.portal.test' }])).toBe(true);
    expect(await accepts(dnsDomain, [{ type: 'dns', value: 'portal.test' }])).toBe(false);

    const uri = await caWith('Unit URI CA', [new asn.GeneralName({ uniformResourceIdentifier: 'portal.test' })]);
    expect(await accepts(uri, [{ type: 'url', value: 'https://portal.test/jane' }])).toBe(true);
    expect(await accepts(uri, [{ type: 'url', value: 'HTTPS://jane@PORTAL.test:8443/x?y#z' }])).toBe(true);
    expect(await accepts(uri, [{ type: 'url', value: 'https://www.portal.test/jane' }])).toBe(false);
    expect(await accepts(uri, [{ type: 'url', value: 'https://elsewhere.test/portal.test' }])).toBe(false);
    expect(await accepts(uri, [{ type: 'url', value: 'https://portal.test.elsewhere.test/' }])).toBe(false);
    expect(await accepts(uri, [{ type: 'url', value: `urn:uuid:${randomUUID()}` }])).toBe(false);
    expect(await accepts(uri, [{ type: 'url', value: 'portal.test' }])).toBe(false);
    // The scheme starts the URI: an authority later in it is not its host.
    expect(await accepts(uri, [{ type: 'url', value: 'urn:x:https://portal.test/' }])).toBe(false);
    // An IPv6 literal host is read whole, brackets included.
    const literal = await caWith('Unit URI Literal CA', [new asn.GeneralName({ uniformResourceIdentifier: '[::1]' })]);
    expect(await accepts(literal, [{ type: 'url', value: 'https://[::1]:8443/jane' }])).toBe(true);
    const uriDomain = await caWith('Unit URI Domain CA', [new asn.GeneralName({ uniformResourceIdentifier: '.portal.test' })]);
    expect(await accepts(uriDomain, [{ type: 'url', value: 'https://www.portal.test/' }])).toBe(true);
    expect(await accepts(uriDomain, [{ type: 'url', value: 'https://portal.test/' }])).toBe(false);
    // Only the names of a constrained form count: a card with none of them is allowed.
    expect(await accepts(uri, [])).toBe(true);
  });

  it('cuts the path above the highest trusted CA, and takes at most five CAs up to it', async () => {
    /** A trust store of these CAs alone. */
    const trusting = (...cas: Issued[]) => {
      const file = path.join(dir, `ca-${randomUUID()}.pem`);
      fs.writeFileSync(file, pemOf(...cas));
      return new TrustStore({ rules: ANY_RULES, caFile: file });
    };
    const verifyWith = (store: TrustStore, ...certs: Issued[]) => verifyCard(parseCard(pemOf(...certs)), store, new Date());
    // A trusted CA issued by a root that expired: the root sent along is above the path, not on it.
    const expiredRoot = await custom({
      issuer: null,
      subject: `CN=Unit Expired Root, ${O}`,
      notBefore: new Date(Date.now() - 10 * DAY),
      notAfter: new Date(Date.now() - DAY),
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
    });
    const trusted = await ca(expiredRoot, `CN=Unit Trusted Under Expired CA, ${O}`, [], 0);
    const onlyIt = trusting(trusted);
    const card = await cardOf(trusted);
    expect((await verifyWith(onlyIt, card)).identity).toEqual(cac);
    expect((await verifyWith(onlyIt, card, expiredRoot)).identity).toEqual(cac);
    // root → A → B → C → D → card: the root is the fifth CA up, at the limit; one more CA is past it.
    const a = await ca(root, `CN=Unit Chain A, ${O}`);
    const chainB = await ca(a, `CN=Unit Chain B, ${O}`);
    const chainC = await ca(chainB, `CN=Unit Chain C, ${O}`);
    const chainD = await ca(chainC, `CN=Unit Chain D, ${O}`);
    const chainE = await ca(chainD, `CN=Unit Chain E, ${O}`);
    expect((await verifyWith(trusting(root, a), await cardOf(chainD), chainD, chainC, chainB)).identity).toEqual(cac);
    expect(await refusal(verifyWith(trusting(root, a, chainB), await cardOf(chainE), chainE, chainD, chainC))).toEqual(NOT_TRUSTED);
  });

  it('refuses a card under a CA whose name constraints cannot be read', async () => {
    const unreadable = await ca(root, `CN=Unit Unreadable Constraints CA, ${O}`, [new x509.Extension(asn.id_ce_nameConstraints, true, new Uint8Array([0x30, 0x03, 0x02, 0x01]))]);
    expect(await refusal(verify(await cardOf(unreadable), unreadable))).toEqual(invalid(`The name constraints of ${unreadable.cert.subject} cannot be read.`));
  });
});
