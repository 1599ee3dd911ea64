import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { isDatabaseUnavailable } from './db';
import { logger } from './logging';

/**
 * Every error code a client may see. Codes are public API: add, never rename.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  ACCOUNT_LOCKED: 'ACCOUNT_LOCKED',
  ACCOUNT_DEACTIVATED: 'ACCOUNT_DEACTIVATED',
  CERTIFICATE_INVALID: 'CERTIFICATE_INVALID',
  CERTIFICATE_EXPIRED: 'CERTIFICATE_EXPIRED',
  CERTIFICATE_REVOKED: 'CERTIFICATE_REVOKED',
  SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  CHALLENGE_INVALID: 'CHALLENGE_INVALID',
  CARD_NOT_REGISTERED: 'CARD_NOT_REGISTERED',
  /** Identity details (name, birth date, DoD ID, DS Logon password) that do not all match one person; never says which. */
  IDENTITY_NOT_VERIFIED: 'IDENTITY_NOT_VERIFIED',
  SLOT_UNAVAILABLE: 'SLOT_UNAVAILABLE',
  APPOINTMENT_NOT_CANCELLABLE: 'APPOINTMENT_NOT_CANCELLABLE',
  REPLY_WINDOW_CLOSED: 'REPLY_WINDOW_CLOSED',
  REFILL_NOT_ALLOWED: 'REFILL_NOT_ALLOWED',
  RENEWAL_NOT_ALLOWED: 'RENEWAL_NOT_ALLOWED',
  RATE_LIMITED: 'RATE_LIMITED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** The request body is over the server's limit (HTTP 413). */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** The answer would be over the server's limit; it is replaced whole by this error, never cut. */
  RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE',
  /** Trusted-documents mode: the operation is not one of the client contract's (HTTP 400). */
  OPERATION_NOT_TRUSTED: 'OPERATION_NOT_TRUSTED',
  /** A smart card whose revocation cannot be checked: no CRL of an issuing CA on its path, or one past its nextUpdate and the grace period. */
  REVOCATION_UNKNOWN: 'REVOCATION_UNKNOWN',
  /** signInWithClientCertificate on a connection that presented no card certificate (or through a proxy that is not trusted). */
  CLIENT_CERTIFICATE_REQUIRED: 'CLIENT_CERTIFICATE_REQUIRED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * What each code tells a client, one line each: README's "Error codes" list is
 * generated from it (`npm run docs:error-codes`), and a test keeps them equal.
 */
export const ERROR_CODE_MEANINGS: Record<ErrorCode, string> = {
  BAD_USER_INPUT: 'An argument breaks a rule (length, range, format); `extensions.field` names the input field when it is one.',
  UNAUTHENTICATED: 'No token, or one that expired or was signed out: sign in again.',
  FORBIDDEN: 'Signed in, but this role may not do this (e.g. a staff account signing in with DS Logon).',
  NOT_FOUND: 'No such record, or one the viewer may not see: the two are never told apart.',
  CONFLICT: 'The change collides with the current state (a username taken, a request already decided, an idempotency key used for something else); the message says how.',
  INTERNAL_SERVER_ERROR: 'A fault on the portal\'s side; the message gives no detail. Try again later.',
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
  SLOT_UNAVAILABLE: 'Someone else booked the slot first: choose another.',
  APPOINTMENT_NOT_CANCELLABLE: 'The appointment is not booked any more or has started, so it cannot be cancelled or moved; the message says why.',
  REPLY_WINDOW_CLOSED: 'The thread has been quiet for 45 days or is a read-only legacy thread: start a new one.',
  REFILL_NOT_ALLOWED: 'The prescription cannot be refilled now (discontinued, expired, no refills left, one pending); the message says why.',
  RENEWAL_NOT_ALLOWED: 'The prescription cannot be renewed now (discontinued, refills remaining, expired too long ago, renewed, one pending); the message says why.',
  RATE_LIMITED: 'Too many requests: wait `extensions.retryAfter` seconds.',
  SERVICE_UNAVAILABLE: 'A part of the portal cannot answer just now: retry later. A nullable field of another subgraph is null with this error at its path.',
  PAYLOAD_TOO_LARGE: 'The request body is over the server\'s limit (HTTP 413).',
  RESPONSE_TOO_LARGE: 'The answer would be over the server\'s limit; it is replaced whole by this error, never cut.',
  OPERATION_NOT_TRUSTED: 'Trusted-documents mode: the operation is not one of the client contract\'s (HTTP 400).',
  REVOCATION_UNKNOWN: 'The smart card\'s revocation cannot be checked: no CRL of an issuing CA on its path, or only a stale one.',
  CLIENT_CERTIFICATE_REQUIRED: 'signInWithClientCertificate on a connection that presented no card certificate in the TLS handshake (or came through a proxy that is not trusted).',
};

/** Codes produced by graphql-js / Apollo Server itself that are safe to pass on. */
const FRAMEWORK_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);

const KNOWN_CODES = new Set<string>([...Object.values(ErrorCode), ...FRAMEWORK_CODES]);

/** A GraphQLError whose `extensions.code` comes from the registry. */
export class PortalError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extra, code } });
    this.name = 'PortalError';
  }
}

export const badInput = (message: string, field?: string) =>
  new PortalError(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});
export const unauthenticated = (message = 'Sign in to see this.') =>
  new PortalError(ErrorCode.UNAUTHENTICATED, message);
export const forbidden = (message = 'You are not allowed to see or change this.') =>
  new PortalError(ErrorCode.FORBIDDEN, message);
export const notFound = (what: string) => new PortalError(ErrorCode.NOT_FOUND, `${what} was not found.`);

export const isKnownCode = (code: unknown): code is string => typeof code === 'string' && KNOWN_CODES.has(code);

/** What a client is told when a part of the portal (a database, most often) cannot answer just now. */
export const UNAVAILABLE_MESSAGE = 'This part of the portal is unavailable right now. Try again shortly.';
/** What a client is told of any failure that is not a deliberate client error. */
export const INTERNAL_MESSAGE = 'Something went wrong on our side. Try again later; if it keeps happening, call the help desk.';

/**
 * Masks everything that is not a deliberate client error: a driver error, a
 * TypeError or a raw subgraph response must never reach a client, since it can
 * carry SQL, stack traces or internal URLs.
 */
export function maskError(formatted: GraphQLFormattedError, original?: unknown): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  const base: GraphQLFormattedError = {
    message: formatted.message,
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
  };
  if (isKnownCode(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
    const extensions: Record<string, unknown> = { code };
    const field = formatted.extensions?.field;
    if (typeof field === 'string') extensions.field = field;
    // Seconds to wait before trying again (RATE_LIMITED, ACCOUNT_LOCKED).
    const retryAfter = formatted.extensions?.retryAfter;
    if (typeof retryAfter === 'number' && Number.isInteger(retryAfter) && retryAfter > 0) extensions.retryAfter = retryAfter;
    return { ...base, extensions };
  }
  const cause = unwrap(original);
  if (cause && isDatabaseUnavailable(cause)) {
    if (process.env.PORTAL_LOG_ERRORS !== '0') logger.error(`[error] database unavailable (${(cause as { code?: string }).code ?? cause.name})`);
    return { ...base, message: UNAVAILABLE_MESSAGE, extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } };
  }
  if (original !== undefined && process.env.PORTAL_LOG_ERRORS !== '0') {
    // Log the class and message only: parameters of a failed query can hold health data.
    const err = unwrap(original);
    logger.error(`[error] ${err?.name ?? 'Error'}: ${scrub(err?.message ?? String(original))}`);
  }
  return { ...base, message: INTERNAL_MESSAGE, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
}

function unwrap(e: unknown): Error | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur instanceof GraphQLError && cur.originalError; i++) cur = cur.originalError;
  return cur instanceof Error ? cur : undefined;
}

/** Drops quoted literals and long digit runs from a message before it is logged. */
export function scrub(message: string): string {
  return message
    .replace(/'[^']*'/g, "'?'")
    .replace(/"[^"]*"/g, '"?"')
    .replace(/\d{6,}/g, '#')
    .slice(0, 300);
}

/**
 * A failed token or session check as a context-creation error: its own code
 * (UNAUTHENTICATED, or SERVICE_UNAVAILABLE when the check could not be made)
 * and the matching HTTP status, so the whole request is refused.
 */
export function authenticationFailure(e: unknown): GraphQLError {
  // Only a deliberate refusal (a PortalError) can say the token is bad; anything else thrown while
  // checking it (a database or Redis failure) says the check could not be made: never "sign in again".
  if (!(e instanceof GraphQLError) || !isKnownCode(e.extensions.code) || e.extensions.code === ErrorCode.INTERNAL_SERVER_ERROR) {
    return new GraphQLError('Your sign-in could not be checked right now. Try again shortly.', {
      extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, http: { status: 503 } },
    });
  }
  const code = e.extensions.code;
  return new GraphQLError(e.message, {
    extensions: { code, http: { status: code === ErrorCode.SERVICE_UNAVAILABLE ? 503 : 401 } },
  });
}
