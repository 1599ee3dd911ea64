import { ErrorCode as GenericErrorCode, defineErrorCodes } from '@portal/kit';

/**
 * Identity's own error codes, with what each tells a client (one line each):
 * README's "Error codes" list and the gateway's list of codes it passes on
 * are generated from them (`npm run docs:error-codes`). Codes are public API:
 * add, never rename.
 */
export const identityErrors = defineErrorCodes('identity', {
  INVALID_CREDENTIALS: 'DS Logon username or password not right; never says which.',
  ACCOUNT_LOCKED: 'Too many wrong passwords in a row: DS Logon sign-in for this username waits `extensions.retryAfter` seconds.',
  ACCOUNT_DEACTIVATED: 'The account was deactivated; create a new DS Logon account.',
  CERTIFICATE_INVALID: 'The smart card\'s certificate is unreadable or not issued by a trusted DoD CA.',
  CERTIFICATE_EXPIRED: 'The smart card\'s certificate has expired.',
  CERTIFICATE_REVOKED: 'The smart card\'s certificate is on its CA\'s revocation list.',
  SIGNATURE_INVALID: 'The card\'s signature does not verify against the challenge and certificate.',
  CHALLENGE_INVALID: 'The challenge is unknown, already used or expired: ask smartCardChallenge for a new one.',
  CARD_NOT_REGISTERED: 'A PIV card that is not linked to an account: register it with registerPivCard.',
  IDENTITY_NOT_VERIFIED: 'Identity details (name, birth date, DoD ID, DS Logon password) that do not all match one person; never says which.',
  REVOCATION_UNKNOWN: 'The smart card\'s revocation cannot be checked: no CRL of an issuing CA on its path, or only a stale one.',
  CLIENT_CERTIFICATE_REQUIRED: 'signInWithClientCertificate on a connection that presented no card certificate in the TLS handshake (or came through a proxy that is not trusted).',
});

/** The kit's generic codes and Identity's own, as the code of a PortalError. */
export const ErrorCode = { ...GenericErrorCode, ...identityErrors.codes } as const;
