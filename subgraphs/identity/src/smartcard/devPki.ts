/**
 * The development PKI under DATA_DIR/pki: a root, a CA for CAC cards and one
 * for PIV cards (ca.pem, trusted when SMARTCARD_CA_FILE is unset outside
 * production, each issuing CA named for its kind of card), their CRLs (crl.pem,
 * empty and due in ten years, so the revocation check production makes runs
 * in development too) and the demo cast's cards, so that smart-card sign-in
 * can be tried at once. Written at run time, never committed; the CA keys are
 * not kept.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { certificatePem, createCrl, createIntermediateCa, createRootCa, issueCard, privateKeyPem, type KeyKind } from './pki';

export const DEV_ROOT_CA = 'CN=Patient Portal Dev Root CA, OU=Development only, O=Patient Portal, C=US';
/** The development CA named for CAC cards (the default of SMARTCARD_CAC_ISSUERS with the dev PKI). */
export const DEV_CAC_CA = 'CN=Patient Portal Dev ID CA-1, OU=Development only, O=Patient Portal, C=US';
/** The development CA named for PIV cards (the default of SMARTCARD_PIV_ISSUERS with the dev PKI). */
export const DEV_PIV_CA = 'CN=Patient Portal Dev PIV CA-1, OU=Development only, O=Patient Portal, C=US';
const TEN_YEARS_MS = 3650 * 86_400_000;

export interface DevCard {
  /** The name scripts/sign-challenge.ts takes. */
  name: string;
  kind: 'CAC' | 'PIV';
  holder: string;
  commonName: string;
  keyKind: KeyKind;
  uuid?: string;
}

/** The demo cast's cards: a CAC each (Alex's with a P-256 key), and a PIV card for John. */
export const DEV_CARDS: readonly Omit<DevCard, 'uuid'>[] = [
  { name: 'jane', kind: 'CAC', holder: 'Jane Doe', commonName: 'DOE.JANE.A.1000000001', keyKind: 'RSA' },
  { name: 'john', kind: 'CAC', holder: 'John Roe', commonName: 'ROE.JOHN.B.1000000002', keyKind: 'RSA' },
  { name: 'alex', kind: 'CAC', holder: 'Alex Kim', commonName: 'KIM.ALEX.2000000001', keyKind: 'P-256' },
  { name: 'sam', kind: 'CAC', holder: 'Sam Lee', commonName: 'LEE.SAM.2000000002', keyKind: 'RSA' },
  { name: 'john-piv', kind: 'PIV', holder: 'John Roe', commonName: 'John B Roe (PIV Authentication)', keyKind: 'RSA' },
];

export const devPkiDir = (dataDir: string) => path.join(dataDir, 'pki');
export const devCaFile = (dataDir: string) => path.join(devPkiDir(dataDir), 'ca.pem');
export const devCrlFile = (dataDir: string) => path.join(devPkiDir(dataDir), 'crl.pem');
export const devCardFiles = (dataDir: string, name: string) => ({
  certificate: path.join(devPkiDir(dataDir), 'cards', `${name}.cert.pem`),
  privateKey: path.join(devPkiDir(dataDir), 'cards', `${name}.key.pem`),
});

/** The cards written under DATA_DIR/pki, with the PIV card's UUID. */
export function readDevCards(dataDir: string): DevCard[] {
  return JSON.parse(fs.readFileSync(path.join(devPkiDir(dataDir), 'cards.json'), 'utf8')) as DevCard[];
}

/**
 * Writes the development PKI unless it is there already; returns its
 * directory. A PKI written before CRLs and the PIV CA existed (no crl.pem) is
 * replaced: its CA keys are gone, so it could not get a CRL.
 */
export async function ensureDevPki(dataDir: string): Promise<string> {
  const dir = devPkiDir(dataDir);
  if (fs.existsSync(devCrlFile(dataDir))) return dir;
  // Built aside and renamed into place, so two processes starting at once never see half of it.
  fs.mkdirSync(dataDir, { recursive: true });
  const suffix = randomBytes(4).toString('hex');
  const tmp = path.join(dataDir, `.pki-${suffix}`);
  const old = path.join(dataDir, `.pki-old-${suffix}`);
  fs.mkdirSync(path.join(tmp, 'cards'), { recursive: true, mode: 0o700 });
  try {
    const validity = { notAfter: new Date(Date.now() + TEN_YEARS_MS) };
    const root = await createRootCa(DEV_ROOT_CA, validity);
    const cacCa = await createIntermediateCa(root, DEV_CAC_CA, validity);
    const pivCa = await createIntermediateCa(root, DEV_PIV_CA, validity);
    fs.writeFileSync(path.join(tmp, 'root-ca.pem'), certificatePem(root));
    fs.writeFileSync(path.join(tmp, 'intermediate-ca.pem'), certificatePem(cacCa));
    fs.writeFileSync(path.join(tmp, 'piv-ca.pem'), certificatePem(pivCa));
    fs.writeFileSync(path.join(tmp, 'ca.pem'), certificatePem(cacCa) + certificatePem(pivCa) + certificatePem(root));
    const crls = await Promise.all([root, cacCa, pivCa].map((ca) => createCrl(ca, [], { nextUpdate: validity.notAfter })));
    fs.writeFileSync(path.join(tmp, 'crl.pem'), crls.map((c) => c.toString('pem')).join('\n'));
    const cards: DevCard[] = [];
    for (const def of DEV_CARDS) {
      const uuid = def.kind === 'PIV' ? randomUUID() : undefined;
      const card = await issueCard(def.kind === 'PIV' ? pivCa : cacCa, { commonName: def.commonName, keyKind: def.keyKind, uuid });
      fs.writeFileSync(path.join(tmp, 'cards', `${def.name}.cert.pem`), certificatePem(card));
      fs.writeFileSync(path.join(tmp, 'cards', `${def.name}.key.pem`), privateKeyPem(card.keys), { mode: 0o600 });
      cards.push({ ...def, ...(uuid ? { uuid } : {}) });
    }
    fs.writeFileSync(path.join(tmp, 'cards.json'), `${JSON.stringify(cards, null, 2)}\n`);
    if (fs.existsSync(dir) && !fs.existsSync(devCrlFile(dataDir))) fs.renameSync(dir, old);
    fs.renameSync(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    // Another process won the race: its PKI stands.
    if (fs.existsSync(devCrlFile(dataDir))) return dir;
    throw e;
  } finally {
    fs.rmSync(old, { recursive: true, force: true });
  }
  return dir;
}
