/**
 * The edge of every server's HTTP front: security headers, CORS, and the sizes
 * of requests and answers. Pure functions of the request, so the front in
 * ../http.ts stays a list of steps.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ErrorCode } from '../errors';

export interface EdgeReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** The GraphQL error body every refusal at the edge uses. */
export const edgeError = (status: number, code: string, message: string, headers: Record<string, string> = {}): EdgeReply => ({
  status,
  body: { errors: [{ message, extensions: { code } }] },
  headers,
});

/**
 * Headers on every answer. Development keeps Apollo Sandbox working (its page
 * loads scripts and frames from Apollo's CDN, so only framing of our own pages
 * is forbidden); production also forbids any content source.
 */
export function securityHeaders(req: IncomingMessage, production: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'content-security-policy': production ? "default-src 'none'; frame-ancestors 'none'" : "frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
  };
  // Only over TLS: HSTS sent over plain HTTP is ignored by browsers and would be a lie.
  if ((req.socket as TLSSocket).encrypted) headers['strict-transport-security'] = 'max-age=31536000; includeSubDomains';
  return headers;
}

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
const ALLOWED_HEADERS = 'content-type, authorization, apollo-require-preflight, x-request-id';

export interface CorsDecision {
  /** Headers to add to the answer (none for an origin not on the list). */
  headers: Record<string, string>;
  /** A preflight (OPTIONS with Access-Control-Request-Method): answer it and stop. */
  preflight?: EdgeReply;
}

/**
 * CORS against an allow-list of exact origins. A refused origin gets no
 * Access-Control-Allow-Origin, so the browser withholds the answer; a
 * preflight from it gets 403 so the refusal is visible in the console.
 */
export function cors(req: IncomingMessage, allowed: readonly string[]): CorsDecision {
  const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
  const isPreflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  // Caches must not serve one origin's answer to another.
  const vary = { vary: 'Origin' };
  if (!origin || !allowed.includes(origin)) {
    if (!isPreflight) return { headers: allowed.length ? vary : {} };
    return { headers: vary, preflight: { status: 403, body: '', headers: vary } };
  }
  const headers = { ...vary, 'access-control-allow-origin': origin };
  if (!isPreflight) return { headers };
  return {
    headers,
    preflight: {
      status: 204,
      body: '',
      headers: {
        ...headers,
        'access-control-allow-methods': ALLOWED_METHODS,
        'access-control-allow-headers': ALLOWED_HEADERS,
        'access-control-max-age': '600',
      },
    },
  };
}

export const tooLarge = (limit: number) => edgeError(413, ErrorCode.PAYLOAD_TOO_LARGE, `The request body is larger than ${limit} bytes.`);

/** The Content-Length a client declared, when it is over the limit. */
export function declaredTooLarge(req: IncomingMessage, limit: number): boolean {
  const declared = req.headers['content-length'];
  return declared !== undefined && Number(declared) > limit;
}

export interface SizeLimits {
  maxQueryChars: number;
  maxVariablesBytes: number;
}

/** Refuses a GraphQL request whose query text or variables are over their limits, before parsing. */
export function checkOperationSize(body: unknown, search: string, limits: SizeLimits): EdgeReply | undefined {
  let query: unknown;
  let variables: unknown;
  let variablesText: string | undefined;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    ({ query, variables } = body as { query?: unknown; variables?: unknown });
  } else if (body === undefined && search) {
    const params = new URLSearchParams(search);
    query = params.get('query') ?? undefined;
    variablesText = params.get('variables') ?? undefined;
  }
  if (typeof query === 'string' && query.length > limits.maxQueryChars) {
    return edgeError(400, 'BAD_REQUEST', `The query text is longer than ${limits.maxQueryChars} characters.`);
  }
  const size = variablesText !== undefined ? Buffer.byteLength(variablesText) : variables === undefined ? 0 : Buffer.byteLength(JSON.stringify(variables));
  if (size > limits.maxVariablesBytes) {
    return edgeError(400, 'BAD_REQUEST', `The variables are larger than ${limits.maxVariablesBytes} bytes.`);
  }
  return undefined;
}

/** An answer over the limit is replaced whole by an error: never a truncated body. */
export function limitResponse(text: string, limit: number): { text: string } {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit: most answers are known to fit without counting their bytes.
  if (text.length * 3 <= limit || Buffer.byteLength(text) <= limit) return { text };
  // The status stays: the request itself was sound, and the gateway passes a subgraph's code on.
  return { text: JSON.stringify(edgeError(200, ErrorCode.RESPONSE_TOO_LARGE, 'The answer is too large to send; ask for less at a time (fewer fields or a smaller page).').body) };
}
