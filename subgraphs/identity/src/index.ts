// Identity's own settings, registered with the kit's schema when identity loads.
export { DEFAULT_CRL_GRACE_HOURS, DEFAULT_PASSWORD_HASH_CONCURRENCY, IDENTITY_SETTINGS, identitySettings, parseIdentitySettings, type IdentitySettings } from './settings';
export { createIdentityModule, type IdentityOptions } from './module';
export { seedDemo, seedScalePatient } from './seed';
export type { IdentityContext } from './context';
export { openSession } from './services/sessions';
export { createServiceClient, ensureServiceClient, SERVICE_SCOPES } from './services/serviceClients';
export { DEV_CAC_CA, DEV_CARDS, DEV_PIV_CA, devCaFile, devCardFiles, devCrlFile, ensureDevPki, readDevCards } from './smartcard/devPki';
export { signChallenge } from './smartcard/pki';
export { passwordHashStats } from './services/passwords';
export { readNoticeSettings, type NoticeOptions } from './notices/worker';
export { identityErrors } from './errors';
