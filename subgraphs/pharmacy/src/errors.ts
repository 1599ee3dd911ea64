import { ErrorCode as GenericErrorCode, defineErrorCodes } from '@portal/kit';

/**
 * Pharmacy's own error codes, with what each tells a client (one line each):
 * README's "Error codes" list and the gateway's list of codes it passes on
 * are generated from them (`npm run docs:error-codes`). Codes are public API:
 * add, never rename.
 */
export const pharmacyErrors = defineErrorCodes('pharmacy', {
  REFILL_NOT_ALLOWED: 'The prescription cannot be refilled now (discontinued, expired, no refills left, one pending); the message says why.',
  RENEWAL_NOT_ALLOWED: 'The prescription cannot be renewed now (discontinued, refills remaining, expired too long ago, renewed, one pending); the message says why.',
});

/** The kit's generic codes and Pharmacy's own, as the code of a PortalError. */
export const ErrorCode = { ...GenericErrorCode, ...pharmacyErrors.codes } as const;
