import { ErrorCode as GenericErrorCode, defineErrorCodes } from '@portal/kit';

/**
 * Scheduling's own error codes, with what each tells a client (one line each):
 * README's "Error codes" list and the gateway's list of codes it passes on
 * are generated from them (`npm run docs:error-codes`). Codes are public API:
 * add, never rename.
 */
export const schedulingErrors = defineErrorCodes('scheduling', {
  SLOT_UNAVAILABLE: 'Someone else booked the slot first: choose another.',
  APPOINTMENT_NOT_CANCELLABLE: 'The appointment is not booked any more or has started, so it cannot be cancelled or moved; the message says why.',
});

/** The kit's generic codes and Scheduling's own, as the code of a PortalError. */
export const ErrorCode = { ...GenericErrorCode, ...schedulingErrors.codes } as const;
