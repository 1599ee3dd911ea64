import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { isDatabaseUnavailable } from './db';
import { logger } from './logging';

/**
 * The generic error codes, which the kit and any subgraph may raise. Each
 * subgraph's own codes (SLOT_UNAVAILABLE, REFILL_NOT_ALLOWED, ...) live in its
 * `src/errors.ts`, declared with `defineErrorCodes`. Codes are public API: add,
 * never rename.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  RATE_LIMITED: 'RATE_LIMITED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** The request body is over the server's limit (HTTP 413). */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** The answer would be over the server's limit; it is replaced whole by this error, never cut. */
  RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE',
  /** Trusted-documents mode: the operation is not one of the client contract's (HTTP 400). */
  OPERATION_NOT_TRUSTED: 'OPERATION_NOT_TRUSTED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * What each generic code tells a client, one line each: README's "Error codes"
 * list is generated from it and the subgraphs' registries
 * (`npm run docs:error-codes`), and a test keeps them equal.
 */
export const ERROR_CODE_MEANINGS: Record<ErrorCode, string> = {
  BAD_USER_INPUT: 'An argument breaks a rule (length, range, format); `extensions.field` names the input field when it is one.',
  UNAUTHENTICATED: 'No token, or one that expired or was signed out: sign in again.',
  FORBIDDEN: 'Signed in, but this role may not do this (e.g. a staff account signing in with DS Logon).',
  NOT_FOUND: 'No such record, or one the viewer may not see: the two are never told apart.',
  CONFLICT: 'The change collides with the current state (a username taken, a request already decided, an idempotency key used for something else); the message says how.',
  INTERNAL_SERVER_ERROR: 'A fault on the portal\'s side; the message gives no detail. Try again later.',
  RATE_LIMITED: 'Too many requests: wait `extensions.retryAfter` seconds.',
  SERVICE_UNAVAILABLE: 'A part of the portal cannot answer just now: retry later. A nullable field of another subgraph is null with this error at its path.',
  PAYLOAD_TOO_LARGE: 'The request body is over the server\'s limit (HTTP 413).',
  RESPONSE_TOO_LARGE: 'The answer would be over the server\'s limit; it is replaced whole by this error, never cut.',
  OPERATION_NOT_TRUSTED: 'Trusted-documents mode: the operation is not one of the client contract\'s (HTTP 400).',
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

const GENERIC_CODES = new Set<string>([...Object.values(ErrorCode), ...FRAMEWORK_CODES]);

/** What a code must look like: upper-case words joined by underscores. */
export const ERROR_CODE_PATTERN = /^[A-Z][A-Z0-9_]{2,40}$/;

/**
 * A code a subgraph declared with `defineErrorCodes`: only such a code (or a
 * generic one) can be given to a PortalError, so no code reaches a client
 * that is not in a registry, and so not in README's list.
 */
export type DomainErrorCode<C extends string = string> = C & { readonly [registered]: true };
declare const registered: unique symbol;

/** One subgraph's own codes with what each tells a client (one line each). */
export interface ErrorCodeRegistry<C extends string = string> {
  /** The subgraph that raises them (its name in SUBGRAPHS). */
  readonly owner: string;
  readonly codes: { readonly [K in C]: DomainErrorCode<K> };
  readonly meanings: Readonly<Record<C, string>>;
}

/** Every code a subgraph declared in this process, with its owner. */
const DOMAIN_CODES = new Map<string, string>();
const REGISTRIES: ErrorCodeRegistry[] = [];

/**
 * Declares a subgraph's own error codes and registers them with the kit when
 * the subgraph's `src/errors.ts` loads, so the subgraph's error masking lets
 * them through. The gateway does not import subgraphs: it reads the list
 * `npm run docs:error-codes` generates from these registries. Refuses a code
 * that is malformed, generic or another subgraph's.
 */
export function defineErrorCodes<const C extends string>(owner: string, meanings: Record<C, string>): ErrorCodeRegistry<C> {
  const existing = REGISTRIES.find((r) => r.owner === owner);
  if (existing) {
    // A second load of the same module (jest's module registry per file) declares the same codes again.
    if (JSON.stringify(existing.meanings) === JSON.stringify(meanings)) return existing as ErrorCodeRegistry<C>;
    throw new Error(`error codes of ${owner} are declared twice, differently`);
  }
  const codes = {} as Record<string, string>;
  for (const code of Object.keys(meanings)) {
    if (!ERROR_CODE_PATTERN.test(code)) throw new Error(`error code ${code} of ${owner} is not of the form ${ERROR_CODE_PATTERN}`);
    if (GENERIC_CODES.has(code)) throw new Error(`error code ${code} of ${owner} is a generic code of the kit`);
    const other = DOMAIN_CODES.get(code);
    if (other) throw new Error(`error code ${code} of ${owner} is already ${other}'s`);
    if (!(meanings as Record<string, string>)[code]?.trim() || (meanings as Record<string, string>)[code].includes('\n')) {
      throw new Error(`error code ${code} of ${owner} needs a one-line meaning`);
    }
    codes[code] = code;
  }
  for (const code of Object.keys(codes)) DOMAIN_CODES.set(code, owner);
  const registry = Object.freeze({ owner, codes: Object.freeze(codes), meanings: Object.freeze({ ...meanings }) }) as unknown as ErrorCodeRegistry<C>;
  REGISTRIES.push(registry);
  return registry;
}

/** The registries declared in this process, in the order they loaded. */
export const errorCodeRegistries = (): readonly ErrorCodeRegistry[] => [...REGISTRIES];

/** A GraphQLError whose `extensions.code` comes from a registry (the kit's generic codes or a subgraph's). */
export class PortalError extends GraphQLError {
  constructor(code: ErrorCode | DomainErrorCode, message: string, extra: Record<string, unknown> = {}) {
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

/** A generic code of the kit, or one of graphql-js's / Apollo's own that is safe to pass on. */
export const isGenericCode = (code: unknown): code is string => typeof code === 'string' && GENERIC_CODES.has(code);

/** A generic code or one a subgraph loaded in this process declared. */
export const isKnownCode = (code: unknown): code is string => isGenericCode(code) || (typeof code === 'string' && DOMAIN_CODES.has(code));

/**
 * Which codes pass to a client: a subgraph's masking lets through the generic
 * codes and the ones declared in its process; the gateway passes its own
 * (the generic codes and the generated list of every subgraph's).
 */
export type PassesCode = (code: unknown) => boolean;

/** Passes the generic codes and those of the given registries (or code lists), and no other. */
export function passesCodes(registries: readonly (ErrorCodeRegistry | readonly string[])[]): PassesCode {
  const codes = new Set<string>(registries.flatMap((r) => (Array.isArray(r) ? r : Object.keys((r as ErrorCodeRegistry).meanings))));
  return (code) => isGenericCode(code) || (typeof code === 'string' && codes.has(code));
}

/** What a client is told when a part of the portal (a database, most often) cannot answer just now. */
export const UNAVAILABLE_MESSAGE = 'This part of the portal is unavailable right now. Try again shortly.';
/** What a client is told of any failure that is not a deliberate client error. */
export const INTERNAL_MESSAGE = 'Something went wrong on our side. Try again later; if it keeps happening, call the help desk.';

/**
 * Masks everything that is not a deliberate client error: a driver error, a
 * TypeError or a raw subgraph response must never reach a client, since it can
 * carry SQL, stack traces or internal URLs.
 */
export function maskError(formatted: GraphQLFormattedError, original?: unknown, passes: PassesCode = isKnownCode): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  const base: GraphQLFormattedError = {
    message: formatted.message,
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
  };
  if (typeof code === 'string' && passes(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
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
