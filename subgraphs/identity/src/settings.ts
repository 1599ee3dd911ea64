import os from 'node:os';
import { countSetting, defineSetting, defineSubgraphSettings, oidsSetting, optionalMs, parseSettingsOf, settingList, textSetting, wholeNumber, type SettingsOf } from '@portal/kit';

/** Default grace for a CRL past its nextUpdate: a day, so a late CRL publication does not lock every card out at once. */
export const DEFAULT_CRL_GRACE_HOURS = 24;

/**
 * scrypt computations at once: one core fewer than the machine has, at least one. Each hash
 * holds a core for about 66 ms; with every core hashing (2 on 2 cores) a password spray
 * tripled the p99 of everyone else's PortalView (bench:abuse), with one it rose 1.5x.
 */
export const DEFAULT_PASSWORD_HASH_CONCURRENCY = Math.max(1, os.availableParallelism() - 1);

const issuers = () => defineSetting('', (v) => (settingList(v, ';').length ? settingList(v, ';') : undefined));

/**
 * Identity's own settings, which no other part reads: its earlier signing
 * keys, the smart cards' CRLs, issuers and policies, password hashing, and the
 * notice worker's timing. They extend the kit's schema (the kit's
 * `TOKEN_SIGNING_KEY_FILE` and `SMARTCARD_CA_FILE` are read by others too);
 * `.env.example` and README's Settings table list them with the kit's.
 */
export const IDENTITY_SETTINGS = {
  TOKEN_PREVIOUS_KEY_FILES: defineSetting('', (v) => settingList(v, ',')),
  SMARTCARD_CRL_FILE: textSetting(''),
  SMARTCARD_CRL_GRACE_HOURS: defineSetting('24', (v) => {
    if (v === undefined) return DEFAULT_CRL_GRACE_HOURS;
    const hours = Number(v);
    if (!Number.isFinite(hours) || hours < 0 || hours > 720) throw new Error('SMARTCARD_CRL_GRACE_HOURS must be a number of hours from 0 to 720.');
    return hours;
  }),
  SMARTCARD_CAC_ISSUERS: issuers(),
  SMARTCARD_PIV_ISSUERS: issuers(),
  SMARTCARD_CAC_POLICY_OIDS: oidsSetting('SMARTCARD_CAC_POLICY_OIDS'),
  SMARTCARD_PIV_POLICY_OIDS: oidsSetting('SMARTCARD_PIV_POLICY_OIDS'),
  PASSWORD_HASH_CONCURRENCY: defineSetting('', wholeNumber(undefined, 1, 10_000, () => 'PASSWORD_HASH_CONCURRENCY must be a whole number from 1 to 10000.')),
  PASSWORD_HASH_QUEUE: countSetting('PASSWORD_HASH_QUEUE', 32, 0),
  IDENTITY_NOTICE_POLL_MS: optionalMs('IDENTITY_NOTICE_POLL_MS', '2000'),
};

export type IdentitySettings = SettingsOf<typeof IDENTITY_SETTINGS>;

declare module '@portal/kit' {
  interface PortalConfig {
    /** Earlier signing keys (PEM, private or public) whose tokens still verify after a rotation (identity). */
    tokenPreviousKeyFiles?: string[];
    /** PEM CRLs of the smart-card CAs; required in production, where every issuing CA on a card's path must have one (identity). */
    smartcardCrlFile?: string;
    /** How long past its nextUpdate a CRL is still believed; after that the cards it covers are refused (identity). */
    smartcardCrlGraceHours?: number;
    /** The CAs whose cards sign in as CAC / PIV: subject DNs or SHA-256 fingerprints (hex) of the issuing CA certificates (identity). */
    smartcardCacIssuers?: string[];
    smartcardPivIssuers?: string[];
    /** Certificate policy OIDs of which a CAC / PIV card's certificate must carry at least one; none means no policy check (identity). */
    smartcardCacPolicyOids?: string[];
    smartcardPivPolicyOids?: string[];
    /** scrypt computations run at once per process, and how many may wait for one before a sign-in is refused (identity). */
    passwordHashing?: { concurrency: number; queue: number };
  }
}

/** Registered with the kit when identity loads: `readConfig` checks these with the kit's and fills in identity's part of the config. */
export const identitySettings = defineSubgraphSettings({
  owner: 'identity',
  settings: IDENTITY_SETTINGS,
  config: (s) => ({
    tokenPreviousKeyFiles: s.TOKEN_PREVIOUS_KEY_FILES,
    smartcardCrlFile: s.SMARTCARD_CRL_FILE,
    smartcardCrlGraceHours: s.SMARTCARD_CRL_GRACE_HOURS,
    smartcardCacIssuers: s.SMARTCARD_CAC_ISSUERS,
    smartcardPivIssuers: s.SMARTCARD_PIV_ISSUERS,
    smartcardCacPolicyOids: s.SMARTCARD_CAC_POLICY_OIDS,
    smartcardPivPolicyOids: s.SMARTCARD_PIV_POLICY_OIDS,
    passwordHashing: { concurrency: s.PASSWORD_HASH_CONCURRENCY ?? DEFAULT_PASSWORD_HASH_CONCURRENCY, queue: s.PASSWORD_HASH_QUEUE },
  }),
  missingInProduction: (s) =>
    [
      // Revocation must be checkable for every card, so it fails closed rather than open.
      !s.SMARTCARD_CRL_FILE && 'SMARTCARD_CRL_FILE',
      !s.SMARTCARD_CAC_ISSUERS && !s.SMARTCARD_PIV_ISSUERS && 'SMARTCARD_CAC_ISSUERS or SMARTCARD_PIV_ISSUERS',
    ].filter((m): m is string => Boolean(m)),
});

/** Some of identity's settings alone (e.g. the notice worker's), checked against its schema. */
export const parseIdentitySettings = (env: NodeJS.ProcessEnv = process.env, only?: readonly (keyof typeof IDENTITY_SETTINGS)[]): IdentitySettings =>
  parseSettingsOf(IDENTITY_SETTINGS, env, only);
