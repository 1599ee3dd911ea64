import { ErrorCode as GenericErrorCode, defineErrorCodes } from '@portal/kit';

/**
 * Messaging's own error codes, with what each tells a client (one line each):
 * README's "Error codes" list and the gateway's list of codes it passes on
 * are generated from them (`npm run docs:error-codes`). Codes are public API:
 * add, never rename.
 */
export const messagingErrors = defineErrorCodes('messaging', {
  REPLY_WINDOW_CLOSED: 'The thread has been quiet for 45 days or is a read-only legacy thread: start a new one.',
});

/** The kit's generic codes and Messaging's own, as the code of a PortalError. */
export const ErrorCode = { ...GenericErrorCode, ...messagingErrors.codes } as const;
