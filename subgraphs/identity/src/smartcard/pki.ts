/**
 * Certificate authorities, cards and revocation lists, generated: the
 * development PKI and the tests' certificates come from here. Nothing in it
 * is trusted by itself; identity trusts only the CA file it is configured with.
 */
import { KeyObject, sign, webcrypto } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn from '@peculiar/asn1-x509';
import { x509 } from './x509';

export type KeyKind = 'RSA' | 'P-256';
export type KeyPair = webcrypto.CryptoKeyPair;

export interface Issued {
  cert: x509.X509Certificate;
  keys: KeyPair;
}

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
export const EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
export const SMARTCARD_LOGON = '1.3.6.1.4.1.311.20.2.2';

export async function generateKeys(kind: KeyKind): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(kind === 'RSA' ? RSA : EC, true, ['sign', 'verify'])) as KeyPair;
}

const signingAlgorithm = (keys: KeyPair) =>
  keys.privateKey.algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

const DAY = 86_400_000;

export interface Validity {
  notBefore?: Date;
  notAfter?: Date;
}

const validity = (v: Validity, days: number) => ({
  notBefore: v.notBefore ?? new Date(Date.now() - DAY),
  notAfter: v.notAfter ?? new Date(Date.now() + days * DAY),
});

/** A self-signed root CA (path length 1: one intermediate below it). */
export async function createRootCa(name: string, options: Validity & { keyKind?: KeyKind } = {}): Promise<Issued> {
  const keys = await generateKeys(options.keyKind ?? 'RSA');
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name,
    keys,
    signingAlgorithm: signingAlgorithm(keys),
    ...validity(options, 3650),
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

export interface CaOptions extends Validity {
  keyKind?: KeyKind;
  /** basicConstraints pathLenConstraint: 0 (the default) lets the CA issue only end-entity certificates; null leaves it unbounded. */
  pathLength?: number | null;
  /** Defaults to keyCertSign | cRLSign. */
  keyUsage?: number;
  /** A nameConstraints extension (critical) of directoryName subtrees, each a DN string. */
  nameConstraints?: { permitted?: string[]; excluded?: string[] };
}

/** An intermediate CA issued by `issuer`. */
export async function createIntermediateCa(issuer: Issued, name: string, options: CaOptions = {}): Promise<Issued> {
  const keys = await generateKeys(options.keyKind ?? 'RSA');
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, options.pathLength === null ? undefined : (options.pathLength ?? 0), true),
    new x509.KeyUsagesExtension(options.keyUsage ?? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
  ];
  if (options.nameConstraints) extensions.push(nameConstraintsExtension(options.nameConstraints));
  const cert = await x509.X509CertificateGenerator.create({
    subject: name,
    issuer: issuer.cert.subject,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: signingAlgorithm(issuer.keys),
    ...validity(options, 1825),
    extensions,
  });
  return { cert, keys };
}

function nameConstraintsExtension(c: { permitted?: string[]; excluded?: string[] }): x509.Extension {
  const subtrees = (dns: string[] | undefined) =>
    dns?.length
      ? new asn.GeneralSubtrees(dns.map((dn) => new asn.GeneralSubtree({ base: new asn.GeneralName({ directoryName: AsnConvert.parse(new x509.Name(dn).toArrayBuffer(), asn.Name) }) })))
      : undefined;
  const value = AsnConvert.serialize(new asn.NameConstraints({ permittedSubtrees: subtrees(c.permitted), excludedSubtrees: subtrees(c.excluded) }));
  return new x509.Extension(asn.id_ce_nameConstraints, true, value);
}

export interface CardOptions extends Validity {
  /** Subject common name: `LAST.FIRST.MIDDLE.EDIPI` for a CAC, anything else for a PIV card. */
  commonName: string;
  /** A PIV card's UUID, put in the subject alternative name as `urn:uuid:<uuid>`. */
  uuid?: string;
  keyKind?: KeyKind;
  /** Defaults to digitalSignature | nonRepudiation; null leaves the extension out. */
  keyUsage?: number | null;
  /** Defaults to clientAuth and emailProtection; null leaves the extension out. */
  extendedKeyUsage?: string[] | null;
  /** Certificate policy OIDs (certificatePolicies extension); none by default. */
  policies?: string[];
  /** Another subject than `CN=<commonName>, OU=DoD, O=U.S. Government, C=US`. */
  subject?: string;
  /** False leaves the basicConstraints extension out (optional in an end-entity certificate). */
  basicConstraints?: boolean;
}

/** A card's certificate issued by `issuer`, with its key pair (which a real card never lets out). */
export async function issueCard(issuer: Issued, options: CardOptions): Promise<Issued> {
  const keys = await generateKeys(options.keyKind ?? 'RSA');
  const extensions: x509.Extension[] = [await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey)];
  if (options.basicConstraints !== false) extensions.unshift(new x509.BasicConstraintsExtension(false, undefined, true));
  const keyUsage = options.keyUsage === undefined ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation : options.keyUsage;
  if (keyUsage !== null) extensions.push(new x509.KeyUsagesExtension(keyUsage, true));
  const eku = options.extendedKeyUsage === undefined ? [CLIENT_AUTH, EMAIL_PROTECTION] : options.extendedKeyUsage;
  if (eku !== null) extensions.push(new x509.ExtendedKeyUsageExtension(eku));
  if (options.uuid) extensions.push(new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `urn:uuid:${options.uuid}` }]));
  if (options.policies?.length) extensions.push(new x509.CertificatePolicyExtension(options.policies));
  const cert = await x509.X509CertificateGenerator.create({
    subject: options.subject ?? `CN=${options.commonName}, OU=DoD, O=U.S. Government, C=US`,
    issuer: issuer.cert.subject,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: signingAlgorithm(issuer.keys),
    ...validity(options, 3 * 365),
    extensions,
  });
  return { cert, keys };
}

export interface CrlOptions {
  thisUpdate?: Date;
  nextUpdate?: Date;
}

/** A CRL signed by `issuer`, revoking `revoked`; by default issued a minute ago, next due in 7 days. */
export async function createCrl(issuer: Issued, revoked: x509.X509Certificate[], options: CrlOptions = {}): Promise<x509.X509Crl> {
  return x509.X509CrlGenerator.create({
    issuer: issuer.cert.subject,
    thisUpdate: options.thisUpdate ?? new Date(Date.now() - 60_000),
    nextUpdate: options.nextUpdate ?? new Date(Date.now() + 7 * DAY),
    entries: revoked.map((c) => ({ serialNumber: c.serialNumber, revocationDate: new Date(Date.now() - 60_000), reason: x509.X509CrlReason.keyCompromise })),
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: signingAlgorithm(issuer.keys),
  });
}

export const certificatePem = (issued: Issued | x509.X509Certificate) => ('cert' in issued ? issued.cert : issued).toString('pem');

export const privateKeyPem = (keys: KeyPair) => KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();

/**
 * What a card does when it signs in: base64 of the signature over the UTF-8
 * challenge, RSASSA-PKCS1-v1_5/SHA-256 for RSA, DER ECDSA/SHA-256 for P-256.
 */
export function signChallenge(privateKey: string | KeyObject | KeyPair, challenge: string): string {
  const key = typeof privateKey === 'string' || privateKey instanceof KeyObject ? privateKey : KeyObject.from(privateKey.privateKey);
  return sign('sha256', Buffer.from(challenge, 'utf8'), key).toString('base64');
}
