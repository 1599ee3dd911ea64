import fs from 'node:fs';
import { x509 } from './x509';

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
// OpenSSL writes `X509 CRL`, some tools plain `CRL`.
const CRL_BLOCK = /-----BEGIN (?:X509 )?CRL-----[\s\S]*?-----END (?:X509 )?CRL-----/g;

export type CardKind = 'CAC' | 'PIV';

/** Which issuing CAs speak for which kind of card, what policies a card must carry, and how stale a CRL may be. */
export interface CardRules {
  /**
   * Per kind, the CAs whose cards' identity is accepted: subject DNs or
   * SHA-256 fingerprints (hex) of the CA certificate that issued the card.
   * `any` (development with a CA file of its own only): every CA of the bundle.
   */
  issuers: Record<CardKind, readonly string[] | 'any'>;
  /** Per kind, policy OIDs of which the card's certificate must carry one; empty means no policy check. */
  policyOids: Record<CardKind, readonly string[]>;
  /** How long past its nextUpdate a CRL is still believed. */
  crlGraceMs: number;
}

export interface TrustSource {
  caFile: string;
  /** Unset (development with a CA file of its own only) means no revocation check; set, every issuing CA on a card's path needs a CRL in it. */
  crlFile?: string;
  rules: CardRules;
  /** Runs once before the CA file is first read (development: writes the dev PKI when missing). */
  prepare?: () => Promise<void>;
}

interface Loaded<T> {
  version: string;
  items: T[];
}

/**
 * The CA certificates trusted for smart-card sign-in and the CRLs configured
 * beside them. Files are re-read when they change, so a new CRL takes effect
 * without a restart.
 */
export class TrustStore {
  private prepared?: Promise<void>;
  private anchorsLoaded?: Loaded<x509.X509Certificate>;
  private crlsLoaded?: Loaded<x509.X509Crl>;

  constructor(private readonly source: TrustSource) {}

  get rules(): CardRules {
    return this.source.rules;
  }

  /** Every CA in the trusted bundle: a chain that reaches any of them is trusted. */
  async anchors(): Promise<x509.X509Certificate[]> {
    await (this.prepared ??= this.source.prepare?.() ?? Promise.resolve());
    this.anchorsLoaded = reload(this.source.caFile, this.anchorsLoaded, (text) => {
      const blocks = text.match(CERTIFICATE_BLOCK) ?? [];
      if (blocks.length === 0) throw new Error(`SMARTCARD_CA_FILE ${this.source.caFile} holds no certificate.`);
      return blocks.map((b) => new x509.X509Certificate(b));
    });
    return this.anchorsLoaded.items;
  }

  /**
   * Reads and parses the configured files once, at start: a missing or
   * unreadable SMARTCARD_CA_FILE or SMARTCARD_CRL_FILE stops identity's start
   * with a message naming the setting, rather than failing the first card
   * sign-in. (The development PKI is written on first use and skipped here.)
   */
  async check(): Promise<void> {
    if (this.source.prepare) return;
    try {
      await this.anchors();
    } catch (e) {
      throw new Error(fileProblem('SMARTCARD_CA_FILE', this.source.caFile, e));
    }
    try {
      this.crls();
    } catch (e) {
      throw new Error(fileProblem('SMARTCARD_CRL_FILE', this.source.crlFile!, e));
    }
  }

  /** The configured CRLs, unverified (whoever uses one checks its signature against the issuing CA); null when no CRL file is configured. */
  crls(): x509.X509Crl[] | null {
    if (!this.source.crlFile) return null;
    this.crlsLoaded = reload(this.source.crlFile, this.crlsLoaded, (text) => (text.match(CRL_BLOCK) ?? []).map((b) => new x509.X509Crl(b)));
    return this.crlsLoaded.items;
  }
}

function reload<T>(file: string, current: Loaded<T> | undefined, parse: (text: string) => T[]): Loaded<T> {
  const stat = fs.statSync(file);
  const version = `${stat.mtimeMs}:${stat.ctimeMs}:${stat.size}`;
  if (current && current.version === version) return current;
  return { version, items: parse(fs.readFileSync(file, 'utf8')) };
}

/** "SETTING: cannot read FILE (it does not exist)", for a file named by a setting that is missing or does not parse. */
export function fileProblem(setting: string, file: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const message = (e as Error)?.message ?? String(e);
  if (message.startsWith(setting)) return message;
  const why = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : message;
  return `${setting}: cannot use ${file} (${why}).`;
}
