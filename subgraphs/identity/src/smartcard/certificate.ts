/**
 * What identity checks in a smart card's certificate, in order: that it is
 * well-formed, chains to a trusted CA within every CA's constraints, is within
 * its dates, may be used to sign in, was issued by a CA named for its kind of
 * card (a CAC by its EDIPI, a PIV card by its UUID) with an accepted policy,
 * and is not revoked; and, separately, the signature over the challenge.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn from '@peculiar/asn1-x509';
import { PortalError } from '@portal/kit';
import { ErrorCode } from '../errors';
import { CLIENT_AUTH, EMAIL_PROTECTION, SMARTCARD_LOGON } from './pki';
import type { CardKind, CardRules, TrustStore } from './trust';
import { x509 } from './x509';

export type CardIdentity = { kind: 'CAC'; edipi: string } | { kind: 'PIV'; uuid: string };

export interface ParsedCard {
  leaf: x509.X509Certificate;
  /** Certificates sent after the leaf: intermediates on the way to a trusted CA. */
  intermediates: x509.X509Certificate[];
  /** SHA-256 of the leaf's DER in base64url: the card's key for rate limiting. */
  fingerprint: string;
}

export interface VerifiedCard extends ParsedCard {
  identity: CardIdentity;
  publicKey: KeyObject;
}

const MAX_PEM_LENGTH = 32_000;
const MAX_CHAIN = 5;
const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const SIGN_IN_USAGES = new Set([CLIENT_AUTH, EMAIL_PROTECTION, SMARTCARD_LOGON]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const invalid = (message: string) => new PortalError(ErrorCode.CERTIFICATE_INVALID, message);

/** Reads the PEM the client sent: the card's certificate first, then any intermediates. */
export function parseCard(pem: string): ParsedCard {
  const blocks = pem.length <= MAX_PEM_LENGTH ? (pem.match(CERTIFICATE_BLOCK) ?? []) : [];
  if (blocks.length === 0 || blocks.length > MAX_CHAIN) {
    throw invalid('The certificate is not a PEM X.509 certificate. Send the card’s certificate as PEM ("-----BEGIN CERTIFICATE-----").');
  }
  let certs: x509.X509Certificate[];
  try {
    certs = blocks.map((b) => new x509.X509Certificate(b));
    // Touch the fields checked later, so a malformed certificate fails here and not halfway through.
    for (const c of certs) void [c.subject, c.issuer, c.notBefore, c.notAfter, c.publicKey, c.extensions];
  } catch {
    throw invalid('The certificate could not be read: it is not a well-formed X.509 certificate.');
  }
  const [leaf, ...intermediates] = certs;
  return { leaf, intermediates, fingerprint: createHash('sha256').update(Buffer.from(leaf.rawData)).digest('base64url') };
}

/**
 * Checks path, dates, CA constraints, key usage, issuer, policy and revocation,
 * and names the card; throws the matching CERTIFICATE_* (or REVOCATION_UNKNOWN) error.
 */
export async function verifyCard(card: ParsedCard, trust: TrustStore, now: Date): Promise<VerifiedCard> {
  const { leaf } = card;
  const publicKey = supportedKey(leaf);
  if (leaf.getExtension(x509.BasicConstraintsExtension)?.ca) throw invalid('This is a CA certificate, not a card’s certificate.');
  if (await leaf.isSelfSigned()) throw invalid('The certificate is self-signed: a card’s certificate must be issued by a trusted CA.');

  const anchors = await trust.anchors();
  const path = await buildPath(leaf, card.intermediates, anchors);

  for (const cert of path) {
    if (cert.notBefore > now) {
      throw new PortalError(ErrorCode.CERTIFICATE_EXPIRED, `The ${cert === leaf ? 'card’s certificate' : 'issuing CA’s certificate'} is not valid until ${cert.notBefore.toISOString()}.`);
    }
    if (cert.notAfter < now) {
      throw new PortalError(ErrorCode.CERTIFICATE_EXPIRED, `The ${cert === leaf ? 'card’s certificate' : 'issuing CA’s certificate'} expired on ${cert.notAfter.toISOString()}. Renew the card.`);
    }
  }
  await assertCaConstraints(path);

  const keyUsage = leaf.getExtension(x509.KeyUsagesExtension);
  if (!keyUsage || !(keyUsage.usages & x509.KeyUsageFlags.digitalSignature)) {
    throw invalid('The certificate is not for digital signatures (key usage), so it cannot sign in.');
  }
  const extended = leaf.getExtension(x509.ExtendedKeyUsageExtension);
  if (extended && !extended.usages.some((u) => SIGN_IN_USAGES.has(String(u)))) {
    throw invalid('The certificate is not for client authentication (extended key usage), so it cannot sign in.');
  }

  const identity = await identifyFrom(leaf, path[1], trust.rules);
  assertPolicy(leaf, identity.kind, trust.rules);
  await assertNotRevoked(path, trust, now);
  return { ...card, identity, publicKey };
}

/** Whether `signature` (base64) is the card's signature over the UTF-8 bytes of `challenge`. */
export function signatureMatches(card: VerifiedCard, challenge: string, signature: string): boolean {
  const bytes = Buffer.from(signature, 'base64');
  if (bytes.length === 0 || bytes.length > 1024) return false;
  try {
    // Node's defaults are the card's encodings: RSASSA-PKCS1-v1_5 for RSA, DER ECDSA for EC; the challenge as UTF-8.
    return verify('sha256', Buffer.from(challenge), card.publicKey, bytes);
  } catch {
    return false;
  }
}

/** RSA of 2048 bits or more, or EC P-256: the two kinds of card key the contract names. */
function supportedKey(leaf: x509.X509Certificate): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(leaf.publicKey.rawData), format: 'der', type: 'spki' });
  } catch {
    throw invalid('The certificate’s public key could not be read.');
  }
  const details = key.asymmetricKeyDetails ?? {};
  // Only an EC key has a named curve.
  const supported = key.asymmetricKeyType === 'rsa' ? (details.modulusLength ?? 0) >= 2048 : details.namedCurve === 'prime256v1';
  if (supported) return key;
  throw invalid('The card’s key must be RSA (2048 bits or more) or EC P-256.');
}

/**
 * The path from the leaf up to a trusted CA, built by @peculiar/x509's chain
 * builder over the trusted bundle and the certificates the client sent (each
 * step's issuer has the subject, key identifier and key that verify it). The
 * path runs as far up as the builder gets and is cut above the highest
 * trusted certificate; without one on it, it is not trusted.
 */
async function buildPath(leaf: x509.X509Certificate, sent: x509.X509Certificate[], anchors: x509.X509Certificate[]): Promise<x509.X509Certificate[]> {
  // Trusted certificates first: when the client sends a copy of a CA the bundle holds, the bundle's is used.
  const builder = new x509.X509ChainBuilder({ certificates: [...anchors, ...sent] });
  let chain: x509.X509Certificate[];
  try {
    chain = [...(await builder.build(leaf))];
  } catch {
    throw invalid('The certificate was not issued by a trusted CA.');
  }
  const isAnchor = (c: x509.X509Certificate) => anchors.some((a) => a.equal(c));
  let top = -1;
  for (let i = chain.length - 1; i >= 1; i--) {
    if (isAnchor(chain[i])) {
      top = i;
      break;
    }
  }
  if (top < 1 || top > MAX_CHAIN) throw invalid('The certificate was not issued by a trusted CA.');
  return chain.slice(0, top + 1);
}

/**
 * What each CA on the path must be (RFC 5280 §6.1.4): a CA (basicConstraints
 * cA), allowed to sign certificates (keyUsage keyCertSign when the extension
 * is there), with no more CAs below it than its pathLenConstraint allows, and
 * every name below it inside its nameConstraints. The trusted CAs are held to
 * the same rules: a constraint in the bundle is meant.
 */
async function assertCaConstraints(path: x509.X509Certificate[]): Promise<void> {
  for (let k = 1; k < path.length; k++) {
    const ca = path[k];
    const constraints = ca.getExtension(x509.BasicConstraintsExtension);
    if (!constraints?.ca) throw invalid(`A certificate on the card’s path (${ca.subject}) is not a CA certificate.`);
    const usage = ca.getExtension(x509.KeyUsagesExtension);
    if (usage && !(usage.usages & x509.KeyUsageFlags.keyCertSign)) throw invalid(`A CA on the card’s path (${ca.subject}) may not issue certificates (key usage).`);
    // CAs between this one and the card, self-issued ones not counted; no limit without a pathLenConstraint.
    const below = path.slice(1, k).filter((c) => !selfIssued(c)).length;
    if (below > (constraints.pathLength ?? Number.POSITIVE_INFINITY)) throw invalid(`The card’s path is longer than ${ca.subject} allows (path length constraint).`);
    const nameConstraints = nameConstraintsOf(ca);
    if (!nameConstraints) continue;
    // The card's names, and a CA's below this one unless it is self-issued (RFC 5280 §6.1.3 b, c).
    for (const cert of path.slice(0, k).filter((c, j) => j === 0 || !selfIssued(c))) {
      if (!namesAllowed(cert, nameConstraints)) throw invalid(`A name in the card’s path is outside what ${ca.subject} may certify (name constraints).`);
    }
  }
}

/** Issued by a CA of the same name (a key rollover): not counted against a path length, its names not constrained. */
const selfIssued = (c: x509.X509Certificate) => c.subject === c.issuer;

/** The CA's nameConstraints; constraints that cannot be read cannot be honoured, so the card is refused rather than they ignored. */
function nameConstraintsOf(ca: x509.X509Certificate): asn.NameConstraints | null {
  const ext = ca.extensions.find((e) => e.type === asn.id_ce_nameConstraints);
  if (!ext) return null;
  try {
    return AsnConvert.parse(ext.value, asn.NameConstraints);
  } catch {
    throw invalid(`The name constraints of ${ca.subject} cannot be read.`);
  }
}

type NameForm = 'directoryName' | 'rfc822Name' | 'dNSName' | 'uniformResourceIdentifier';

/** The certificate's names, by form: its subject DN and its alternative names. */
function namesOf(cert: x509.X509Certificate): { form: NameForm; value: string | ArrayBuffer[] }[] {
  const out: { form: NameForm; value: string | ArrayBuffer[] }[] = [];
  const subject = AsnConvert.parse(cert.subjectName.toArrayBuffer(), asn.Name);
  if (subject.length) out.push({ form: 'directoryName', value: subject.map((rdn) => AsnConvert.serialize(rdn)) });
  const san = cert.extensions.find((e) => e.type === asn.id_ce_subjectAltName);
  if (!san) return out;
  for (const g of AsnConvert.parse(san.value, asn.SubjectAlternativeName)) {
    if (g.directoryName) out.push({ form: 'directoryName', value: g.directoryName.map((rdn) => AsnConvert.serialize(rdn)) });
    else if (g.rfc822Name) out.push({ form: 'rfc822Name', value: g.rfc822Name });
    else if (g.dNSName) out.push({ form: 'dNSName', value: g.dNSName });
    else if (g.uniformResourceIdentifier) out.push({ form: 'uniformResourceIdentifier', value: g.uniformResourceIdentifier });
  }
  return out;
}

/**
 * RFC 5280 §4.2.1.10 for the name forms a card carries: a DN is within a
 * subtree when the subtree's RDNs are its first RDNs (compared as encoded); an
 * e-mail address, DNS name or URI host by its domain. A name of a form the
 * constraints restrict must be in some permitted subtree of that form and in
 * no excluded one. Other forms of constraint (IP addresses, other names) do
 * not apply to the names a card is read by, so they are not checked.
 */
function namesAllowed(cert: x509.X509Certificate, constraints: asn.NameConstraints): boolean {
  const permitted = [...(constraints.permittedSubtrees ?? [])].map((s) => s.base);
  const excluded = [...(constraints.excludedSubtrees ?? [])].map((s) => s.base);
  for (const name of namesOf(cert)) {
    const bases = (list: asn.GeneralName[]) => list.filter((g) => g[name.form] !== undefined);
    if (bases(excluded).some((g) => within(name, g))) return false;
    const allowed = bases(permitted);
    if (allowed.length && !allowed.some((g) => within(name, g))) return false;
  }
  return true;
}

function within(name: { form: NameForm; value: string | ArrayBuffer[] }, base: asn.GeneralName): boolean {
  if (name.form === 'directoryName') {
    const rdns = name.value as ArrayBuffer[];
    const prefix = base.directoryName!.map((rdn) => Buffer.from(AsnConvert.serialize(rdn)));
    return prefix.length <= rdns.length && prefix.every((p, i) => p.equals(Buffer.from(rdns[i])));
  }
  const value = String(name.value).toLowerCase();
  const constraint = String(base[name.form]).toLowerCase();
  const host = name.form === 'rfc822Name' ? value.slice(value.lastIndexOf('@') + 1) : name.form === 'uniformResourceIdentifier' ? uriHost(value) : value;
  if (host === null) return false;
  if (name.form === 'rfc822Name' && constraint.includes('@')) return value === constraint;
  if (constraint.startsWith('.')) return host.endsWith(constraint);
  // A DNS name constraint covers its subdomains too; a host or mail domain constraint only that host.
  return host === constraint || (name.form === 'dNSName' && host.endsWith(`.${constraint}`));
}

/** The host of a URI with an authority; null for one without (a `urn:`), which no host constraint can admit. */
function uriHost(uri: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?(\[[^\]]*\]|[^:/?#]*)/.exec(uri);
  return m ? m[1] : null;
}

/**
 * A certificate on the path is revoked when a CRL of its issuer lists it.
 * Only CRLs whose signature the issuer's key verifies count: a forged CRL can
 * neither revoke a card nor hide a revocation. With a CRL file configured
 * (always in production), every issuing CA on the path must have a CRL in it
 * whose nextUpdate, plus the grace period, is still ahead: otherwise the
 * card's revocation is unknown and it is refused (fail closed).
 */
async function assertNotRevoked(path: x509.X509Certificate[], trust: TrustStore, now: Date): Promise<void> {
  const crls = trust.crls();
  if (crls === null) return;
  for (let i = 0; i < path.length - 1; i++) {
    const cert = path[i];
    const issuer = path[i + 1];
    const issuerName = issuer.subjectName.getField('CN').at(-1) ?? issuer.subject;
    const usage = issuer.getExtension(x509.KeyUsagesExtension);
    const mayRevoke = !usage || Boolean(usage.usages & x509.KeyUsageFlags.cRLSign);
    const own: x509.X509Crl[] = [];
    for (const crl of crls) {
      if (!mayRevoke || crl.issuer !== issuer.subject) continue;
      if (await crl.verify({ publicKey: issuer.publicKey }).catch(() => false)) own.push(crl);
    }
    if (own.some((crl) => crl.findRevoked(cert.serialNumber))) {
      throw new PortalError(
        ErrorCode.CERTIFICATE_REVOKED,
        i === 0 ? 'This card’s certificate has been revoked. Contact your ID card office.' : 'The CA that issued this card has been revoked.',
      );
    }
    if (own.length === 0) {
      throw new PortalError(ErrorCode.REVOCATION_UNKNOWN, `Whether this card has been revoked cannot be checked: there is no revocation list of ${issuerName}. Call the portal help desk.`);
    }
    const newest = own.reduce((a, b) => (b.thisUpdate > a.thisUpdate ? b : a));
    if (newest.nextUpdate && newest.nextUpdate.getTime() + trust.rules.crlGraceMs < now.getTime()) {
      throw new PortalError(
        ErrorCode.REVOCATION_UNKNOWN,
        `Whether this card has been revoked cannot be checked: the revocation list of ${issuerName} is out of date. Call the portal help desk.`,
      );
    }
  }
}

/**
 * Which card this is, read only as the issuing CA may vouch for: a CAC
 * identity (EDIPI) only from a CA named for CAC cards, a PIV identity (UUID)
 * only from one named for PIV cards.
 */
async function identifyFrom(leaf: x509.X509Certificate, issuer: x509.X509Certificate, rules: CardRules): Promise<CardIdentity> {
  const cac = cacIdentity(leaf);
  const piv = pivIdentity(leaf);
  if (cac && (await issuerNamed(issuer, rules.issuers.CAC))) return cac;
  if (piv && (await issuerNamed(issuer, rules.issuers.PIV))) return piv;
  if (cac || piv) {
    throw invalid(`The CA that issued this certificate (${issuer.subject}) is not one this portal accepts ${cac ? 'CAC' : 'PIV'} cards from.`);
  }
  throw invalid('The certificate is neither a CAC (subject LAST.FIRST.MIDDLE.EDIPI) nor a PIV card (urn:uuid: alternative name).');
}

/** Whether `ca` is one of `named`: by SHA-256 fingerprint (hex, colons allowed) or subject DN (either RDN order). */
export async function issuerNamed(ca: x509.X509Certificate, named: readonly string[] | 'any'): Promise<boolean> {
  if (named === 'any') return true;
  const fingerprint = createHash('sha256').update(Buffer.from(ca.rawData)).digest('hex');
  const subject = dnForms(ca.subject);
  return named.some((entry) => {
    const hex = entry.replace(/:/g, '').toLowerCase();
    if (/^[0-9a-f]{64}$/.test(hex)) return hex === fingerprint;
    return dnForms(entry).some((form) => subject.includes(form));
  });
}

/** A DN as @peculiar/x509 prints it, in its order and reversed (RFC 4514 prints the last RDN first). */
function dnForms(dn: string): string[] {
  try {
    const name = new x509.Name(dn);
    const reversed = new x509.Name(name.toJSON().slice().reverse());
    return [name.toString(), reversed.toString()];
  } catch {
    return [];
  }
}

function assertPolicy(leaf: x509.X509Certificate, kind: CardKind, rules: CardRules): void {
  const required = rules.policyOids[kind];
  if (!required.length) return;
  const policies = leaf.getExtension(x509.CertificatePolicyExtension)?.policies ?? [];
  if (!policies.some((p) => required.includes(p))) {
    throw invalid(`The certificate does not carry a certificate policy this portal accepts for ${kind} cards.`);
  }
}

/** A subject CN of `LAST.FIRST.MIDDLE.EDIPI` or `LAST.FIRST.EDIPI` (EDIPI = 10 digits) names a CAC. */
function cacIdentity(leaf: x509.X509Certificate): CardIdentity | null {
  const cn = leaf.subjectName.getField('CN').at(-1) ?? '';
  const parts = cn.split('.');
  const edipi = parts.at(-1) ?? '';
  if ((parts.length === 3 || parts.length === 4) && /^\d{10}$/.test(edipi) && parts.slice(0, -1).every((p) => p.trim().length > 0)) {
    return { kind: 'CAC', edipi };
  }
  return null;
}

/** The `urn:uuid:` URI in the subject alternative name names a PIV card. */
function pivIdentity(leaf: x509.X509Certificate): CardIdentity | null {
  const names = leaf.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
  for (const name of names) {
    const m = name.type === 'url' ? /^urn:uuid:(.+)$/i.exec(name.value) : null;
    if (m && UUID.test(m[1])) return { kind: 'PIV', uuid: m[1].toLowerCase() };
  }
  return null;
}
