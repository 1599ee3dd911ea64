/**
 * What identity checks in a smart card's certificate, in order: that it is
 * well-formed, chains to a trusted CA, is within its dates, may be used to
 * sign in, is not revoked; then which card it is (a CAC by its EDIPI, a PIV
 * card by its UUID); and, separately, the signature over the challenge.
 */
import { constants, createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { ErrorCode, PortalError } from '@portal/kit';
import { CLIENT_AUTH, EMAIL_PROTECTION, SMARTCARD_LOGON } from './pki';
import type { TrustStore } from './trust';
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

/** Checks chain, dates, key usage and revocation, and names the card; throws the matching CERTIFICATE_* error. */
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

  const keyUsage = leaf.getExtension(x509.KeyUsagesExtension);
  if (!keyUsage || !(keyUsage.usages & x509.KeyUsageFlags.digitalSignature)) {
    throw invalid('The certificate is not for digital signatures (key usage), so it cannot sign in.');
  }
  const extended = leaf.getExtension(x509.ExtendedKeyUsageExtension);
  if (extended && !extended.usages.some((u) => SIGN_IN_USAGES.has(String(u)))) {
    throw invalid('The certificate is not for client authentication (extended key usage), so it cannot sign in.');
  }

  await assertNotRevoked(path, trust);
  return { ...card, identity: identify(leaf), publicKey };
}

/** Whether `signature` (base64) is the card's signature over the UTF-8 bytes of `challenge`. */
export function signatureMatches(card: VerifiedCard, challenge: string, signature: string): boolean {
  const bytes = Buffer.from(signature, 'base64');
  if (bytes.length === 0 || bytes.length > 1024) return false;
  const data = Buffer.from(challenge, 'utf8');
  try {
    return card.publicKey.asymmetricKeyType === 'rsa'
      ? verify('sha256', data, { key: card.publicKey, padding: constants.RSA_PKCS1_PADDING }, bytes)
      : verify('sha256', data, { key: card.publicKey, dsaEncoding: 'der' }, bytes);
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
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= 2048) return key;
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') return key;
  throw invalid('The card’s key must be RSA (2048 bits or more) or EC P-256.');
}

/**
 * The path from the leaf up to a trusted CA: each step's issuer has the
 * subject the step names, is a CA, and its key verifies the step's signature.
 * Intermediates may come from the client or from the trusted bundle.
 */
async function buildPath(leaf: x509.X509Certificate, sent: x509.X509Certificate[], anchors: x509.X509Certificate[]): Promise<x509.X509Certificate[]> {
  const path = [leaf];
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    const trusted = await findIssuer(current, anchors);
    if (trusted) return [...path, trusted];
    const next = await findIssuer(current, sent.filter((c) => !path.includes(c)));
    if (!next) break;
    path.push(next);
    current = next;
  }
  throw invalid('The certificate was not issued by a trusted CA.');
}

async function findIssuer(cert: x509.X509Certificate, candidates: x509.X509Certificate[]): Promise<x509.X509Certificate | undefined> {
  for (const candidate of candidates) {
    if (candidate.subject !== cert.issuer || !isCa(candidate)) continue;
    const ok = await cert.verify({ publicKey: candidate.publicKey, signatureOnly: true }).catch(() => false);
    if (ok) return candidate;
  }
  return undefined;
}

function isCa(cert: x509.X509Certificate): boolean {
  if (!cert.getExtension(x509.BasicConstraintsExtension)?.ca) return false;
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  return !usage || Boolean(usage.usages & x509.KeyUsageFlags.keyCertSign);
}

/**
 * A certificate on the path is revoked when a CRL of its issuer lists it. Only
 * CRLs whose signature the issuer's key verifies count: a forged CRL can
 * neither revoke a card nor hide a revocation.
 */
async function assertNotRevoked(path: x509.X509Certificate[], trust: TrustStore): Promise<void> {
  const crls = trust.crls();
  if (crls.length === 0) return;
  for (let i = 0; i < path.length - 1; i++) {
    const cert = path[i];
    const issuer = path[i + 1];
    for (const crl of crls) {
      if (crl.issuer !== cert.issuer || !crl.findRevoked(cert.serialNumber)) continue;
      if (await crl.verify({ publicKey: issuer.publicKey }).catch(() => false)) {
        throw new PortalError(
          ErrorCode.CERTIFICATE_REVOKED,
          i === 0 ? 'This card’s certificate has been revoked. Contact your ID card office.' : 'The CA that issued this card has been revoked.',
        );
      }
    }
  }
}

/**
 * A subject CN of `LAST.FIRST.MIDDLE.EDIPI` or `LAST.FIRST.EDIPI` (EDIPI = 10
 * digits) is a CAC; any other certificate is a PIV card named by the
 * `urn:uuid:` URI in its subject alternative name.
 */
export function identify(leaf: x509.X509Certificate): CardIdentity {
  const cn = leaf.subjectName.getField('CN').at(-1) ?? '';
  const parts = cn.split('.');
  const edipi = parts.at(-1) ?? '';
  if ((parts.length === 3 || parts.length === 4) && /^\d{10}$/.test(edipi) && parts.slice(0, -1).every((p) => p.trim().length > 0)) {
    return { kind: 'CAC', edipi };
  }
  const names = leaf.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
  for (const name of names) {
    const m = name.type === 'url' ? /^urn:uuid:(.+)$/i.exec(name.value) : null;
    if (m && UUID.test(m[1])) return { kind: 'PIV', uuid: m[1].toLowerCase() };
  }
  throw invalid('The certificate is neither a CAC (subject LAST.FIRST.MIDDLE.EDIPI) nor a PIV card (urn:uuid: alternative name).');
}
