import { defineSubgraphSettings, optionalMs, parseSettingsOf, textSetting, type SettingsOf } from '@portal/kit';

/**
 * Pharmacy's own settings, which no other part reads: its outbox worker's
 * timing and the service credential it posts to messaging with (see
 * outbox/settings.ts). They extend the kit's schema (OUTBOX_MAX_REFUSALS and
 * OUTBOX_RETENTION_HOURS are the kit's, shared with identity's notices);
 * `.env.example` and README's Settings table list them with the kit's.
 */
export const PHARMACY_SETTINGS = {
  PHARMACY_OUTBOX_POLL_MS: optionalMs('PHARMACY_OUTBOX_POLL_MS', '2000'),
  PHARMACY_OUTBOX_RETRY_BASE_MS: optionalMs('PHARMACY_OUTBOX_RETRY_BASE_MS', '1000'),
  PHARMACY_OUTBOX_RETRY_MAX_MS: optionalMs('PHARMACY_OUTBOX_RETRY_MAX_MS', '60000'),
  PHARMACY_CLIENT_ID: textSetting(''),
  PHARMACY_CLIENT_SECRET: textSetting(''),
};

export type PharmacySettings = SettingsOf<typeof PHARMACY_SETTINGS>;

/**
 * Registered with the kit when pharmacy loads: `readConfig` checks these with
 * the kit's; the notifier reads them itself (outbox/settings.ts), so they add
 * nothing to the shared config.
 */
export const pharmacySettings = defineSubgraphSettings({ owner: 'pharmacy', settings: PHARMACY_SETTINGS, config: () => ({}) });

/** Some of pharmacy's settings, checked against its schema. */
export const parsePharmacySettings = (env: NodeJS.ProcessEnv = process.env, only?: readonly (keyof typeof PHARMACY_SETTINGS)[]): PharmacySettings =>
  parseSettingsOf(PHARMACY_SETTINGS, env, only);
