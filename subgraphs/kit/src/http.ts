import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { HeaderMap, type ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { context as otelContext, trace } from '@opentelemetry/api';
import { checkOperationSize, cors, declaredTooLarge, limitResponse, securityHeaders, tooLarge, type EdgeReply } from './edge/front';
import { DEFAULT_EDGE_SETTINGS } from './edge/settings';
import { DEFAULT_SHUTDOWN_GRACE_MS } from './config';
import { currentRequestScope, logger, withRequestScope, type RequestScope } from './logging';
import { codeLabel, graphqlErrors, httpDuration, httpRequests, metricsOn, operationLabel, outcomeOf, scrape, scrapeAllowed, serveMetrics } from './metrics';
import { incomingTraceContext, SpanKind, SpanStatusCode, tracerOf, tracingOn } from './tracing';

export type RouteHandler = (req: IncomingMessage, body: Buffer, requestId: string) => Promise<{ status: number; body: unknown; headers?: Record<string, string> }>;

export interface HttpOptions<C extends BaseContext> {
  apollo: ApolloServer<C>;
  context: (req: IncomingMessage, requestId: string) => Promise<C>;
  /** Extra routes by "METHOD /path". */
  routes?: Record<string, RouteHandler>;
  /**
   * Readiness probe for /health/ready (and /health, /ready): true/false, or a
   * report whose `ready` decides the status and whose other keys (for example
   * the gateway's degraded subgraphs) are sent as the JSON body.
   */
  ready: () => Promise<boolean | ReadyReport>;
  /** Request body limit; defaults to 1 MB. */
  maxBodyBytes?: number;
  /** Bounds on the query text, the variables and the answer; defaults to the edge defaults. */
  sizes?: { maxQueryChars: number; maxVariablesBytes: number; maxResponseBytes: number };
  /** Origins whose browser apps may call this server (the gateway's CORS_ORIGINS); none by default. */
  corsOrigins?: readonly string[];
  /** Production: the stricter Content-Security-Policy. */
  production?: boolean;
  /**
   * Decides on a parsed GraphQL request before Apollo sees it (the gateway's
   * trusted documents): a refusal, or the request to run instead.
   */
  admit?: (request: { body: unknown; search: string }) => EdgeReply | { body: unknown; search: string };
  /** The request id of each request, sent back as `x-request-id`; a new UUID unless told otherwise. */
  requestId?: (req: IncomingMessage) => string;
  /** How long `close()` lets requests in flight finish before it cuts them; defaults to DEFAULT_SHUTDOWN_GRACE_MS. */
  shutdownGraceMs?: number;
  /** Serve HTTPS with these options (key, cert, and for client certificates requestCert and ca) instead of plain HTTP. */
  tls?: https.ServerOptions;
  /** Names the server in its spans, log lines and metrics (`gateway`, `identity`, ...). */
  service?: string;
  /**
   * Continue the caller's trace (W3C `traceparent`): subgraphs, called by the
   * gateway, do; the gateway, facing the public, starts a trace of its own.
   */
  trustTraceContext?: boolean;
  /** METRICS_TOKEN: when set, GET /metrics answers a scrape that sends it as a bearer token; otherwise /metrics is not served here. */
  metricsToken?: string;
}

/**
 * Gives the request's scope (logs, metrics, span) its GraphQL operation name
 * and the codes of the errors it answers with. Every Apollo Server of the
 * codebase (gateway and subgraphs) runs it.
 */
export const observeOperations: ApolloServerPlugin<BaseContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operationName, operation }) {
        const scope = currentRequestScope();
        if (!scope) return;
        scope.operation = operationName ?? '';
        const span = trace.getActiveSpan();
        if (operation) span?.setAttribute('graphql.operation.type', operation.operation);
        if (operationName) span?.setAttribute('graphql.operation.name', operationLabel(operationName));
      },
      async willSendResponse({ response }) {
        const scope = currentRequestScope();
        if (!scope || response.body.kind !== 'single') return;
        for (const error of response.body.singleResult.errors ?? []) scope.codes.push(codeLabel(error.extensions?.code));
      },
    };
  },
};

const FIRST_OPERATION = /^\s*(?:#[^\n]*\n\s*)*(?:query|mutation|subscription)\s+([A-Za-z_][A-Za-z0-9_]*)/;

/** The operation a request names: its operationName, else its document's first named operation. */
function requestedOperation(body: unknown, search: string): string | undefined {
  const fields = body && typeof body === 'object' ? (body as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(search));
  if (typeof fields.operationName === 'string' && fields.operationName) return fields.operationName;
  return typeof fields.query === 'string' ? FIRST_OPERATION.exec(fields.query.slice(0, 2_000))?.[1] : undefined;
}

/** Paths neither traced, logged nor counted: probes and scrapes arrive every few seconds and say nothing of the traffic. */
const UNOBSERVED: ReadonlySet<string> = new Set(['/health/live', '/health/ready', '/health', '/ready', '/metrics']);

/** The codes of an answer's `errors`, for answers made outside Apollo (edge refusals, context failures). */
function codesOf(body: unknown): string[] {
  const errors = (body as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) ? errors.map((e) => codeLabel((e as { extensions?: { code?: unknown } })?.extensions?.code)) : [];
}

/** What a readiness probe may say beyond yes or no; sent as the body of /health/ready. */
export interface ReadyReport {
  ready: boolean;
  [detail: string]: unknown;
}

export interface RunningServer {
  url: string;
  port: number;
  /**
   * Stops the server: readiness answers 503 at once, no new connection is
   * accepted, idle keep-alive connections are closed, requests in flight may
   * finish (their connections close after the answer) until the shutdown
   * grace ends, and what is left then is cut. Resolves once every request
   * handler has returned (or shortly after the cut, for one that never does).
   */
  close(): Promise<void>;
}

/** How long a handler still running after the cut is waited for, so what it writes (its audit) is not lost to a closed database. */
const AFTER_CUT_WAIT_MS = 1_000;

type EdgeOptions = Pick<HttpOptions<BaseContext>, 'corsOrigins' | 'production' | 'admit'>;

class BodyTooLarge extends Error {}

/**
 * Reads the body up to `limit` bytes. Past it (or when Content-Length says so
 * before a byte is read) it stops collecting and rejects; the socket is left
 * open, so Node discards the rest once the 413 is sent and the connection
 * serves the next request.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (declaredTooLarge(req, limit)) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

/** Security and CORS headers on every answer; answers a CORS preflight itself (true when it did). */
function applyEdgeHeaders(req: IncomingMessage, res: ServerResponse, options: EdgeOptions): boolean {
  for (const [key, value] of Object.entries(securityHeaders(req, options.production ?? false))) res.setHeader(key, value);
  const decision = cors(req, options.corsOrigins ?? []);
  for (const [key, value] of Object.entries(decision.headers)) res.setHeader(key, value);
  if (!decision.preflight) return false;
  res.writeHead(decision.preflight.status, decision.preflight.headers);
  res.end();
  return true;
}

/**
 * A route's answer written piece by piece as it is produced (a large download),
 * so it is never held whole, as a string or otherwise. A failure once the
 * status is sent cuts the connection: the client sees a truncated body, never
 * one that looks complete.
 */
export class StreamedBody {
  constructor(readonly pieces: Iterable<string> | AsyncIterable<string>) {}
}

/** Pieces are gathered up to this many characters per write. */
const STREAM_WRITE_CHARS = 64 * 1024;

async function sendStreamed(res: ServerResponse, status: number, body: StreamedBody, headers: Record<string, string> = {}): Promise<void> {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  // Waits while the socket's buffer is full (backpressure), or until the client has gone.
  const flush = async (text: string) => {
    if (res.destroyed) throw new Error('client gone');
    if (!res.write(text)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  };
  try {
    let pending = '';
    for await (const piece of body.pieces) {
      pending += piece;
      if (pending.length >= STREAM_WRITE_CHARS) {
        await flush(pending);
        pending = '';
      }
    }
    if (pending) await flush(pending);
    res.end();
  } catch (e) {
    // The class only: a piece could hold health data.
    if (!res.destroyed) console.error(`[http] streamed answer cut (${(e as Error)?.name ?? 'error'})`);
    res.destroy();
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  currentRequestScope()?.codes.push(...codesOf(body));
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', ...headers });
  res.end(text);
}

/** Query text and variables within their limits, then the server's own admission (trusted documents). */
function admitOperation(
  options: EdgeOptions,
  sizes: { maxQueryChars: number; maxVariablesBytes: number },
  body: unknown,
  search: string,
): EdgeReply | { body: unknown; search: string } {
  const refused = checkOperationSize(body, search, sizes);
  if (refused) return refused;
  return options.admit ? options.admit({ body, search }) : { body, search };
}

/**
 * A small HTTP front for Apollo Server using its documented integration API
 * (`executeHTTPGraphQLRequest`), so /health, the JWKS and internal routes can
 * sit beside /graphql without pulling in a web framework.
 */
export async function listen<C extends BaseContext>(options: HttpOptions<C>, port: number, host = '127.0.0.1'): Promise<RunningServer> {
  const limit = options.maxBodyBytes ?? DEFAULT_EDGE_SETTINGS.maxBodyBytes;
  const sizes = options.sizes ?? DEFAULT_EDGE_SETTINGS;
  let draining = false;
  /** Answers not yet sent: told to close their connection once sent when the server starts stopping. */
  const open = new Set<ServerResponse>();
  /** Handlers still running, cut or not: close() waits for them, since they may still write (their audit). */
  const running = new Set<Promise<void>>();
  const service = options.service ?? 'server';
  const tracer = tracerOf(service);
  /** Each request in its scope (request id, trace) and span; counted and logged once answered. */
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const requestId = options.requestId ? options.requestId(req) : randomUUID();
    res.setHeader('x-request-id', requestId);
    if (UNOBSERVED.has(url.pathname)) return respond(req, res, url, requestId);
    const started = performance.now();
    const scope: RequestScope = { requestId, service, codes: [] };
    const route = url.pathname === '/graphql' || url.pathname === '/' ? 'graphql' : options.routes?.[`${req.method} ${url.pathname}`] ? `${req.method} ${url.pathname}` : 'other';
    // Without a tracing SDK no span is opened, and without anything serving the metrics nothing is counted:
    // observability that is off costs a scope object and a clock read per request.
    const span = tracingOn()
      ? (() => {
          const parent = incomingTraceContext(req.headers, options.trustTraceContext ?? false);
          const opened = tracer.startSpan(
            route === 'graphql' ? `${req.method} /graphql` : route === 'other' ? `${req.method}` : route,
            { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': route === 'other' ? 'other' : url.pathname, 'portal.service': service, 'portal.request_id': requestId } },
            parent,
          );
          return { opened, context: trace.setSpan(parent, opened) };
        })()
      : undefined;
    const work = () =>
      withRequestScope(scope, async () => {
        try {
          await respond(req, res, url, requestId);
        } finally {
          const status = res.statusCode;
          const counting = metricsOn();
          // PORTAL_QUIET=1 (tests, benchmarks) leaves out the line per request, as it does the warnings.
          const logging = process.env.PORTAL_QUIET !== '1' && logger.isLevelEnabled('info');
          if (span || counting || logging) {
            const seconds = (performance.now() - started) / 1000;
            const named = scope.operation ?? scope.requestedOperation;
            const operation = route === 'graphql' ? (named === undefined ? 'unparsed' : operationLabel(named)) : route;
            if (span) {
              span.opened.setAttribute('http.response.status_code', status);
              if (status >= 500) span.opened.setStatus({ code: SpanStatusCode.ERROR });
              span.opened.end();
            }
            if (counting) {
              httpRequests.inc({ service, operation, outcome: outcomeOf(status, scope.codes.length) });
              httpDuration.observe({ service, operation }, seconds);
              for (const code of scope.codes) graphqlErrors.inc({ service, code });
            }
            if (logging) logger.info(
              { method: req.method, path: route === 'other' ? 'other' : url.pathname, operation, status, durationMs: Math.round(seconds * 1e4) / 10, ...(scope.codes.length ? { codes: scope.codes } : {}) },
              'request',
            );
          }
        }
      });
    await (span ? otelContext.with(span.context, work) : work());
  };
  const respond = async (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string) => {
    try {
      if (applyEdgeHeaders(req, res, options)) return;
      if (req.method === 'GET' && url.pathname === '/metrics' && options.metricsToken) {
        if (!scrapeAllowed(req.headers.authorization, options.metricsToken)) {
          send(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
          return;
        }
        const { contentType, text } = await scrape();
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
        res.end(text);
        return;
      }
      if (req.method === 'GET' && url.pathname === '/health/live') {
        send(res, 200, { status: 'ok' });
        return;
      }
      // /health and /ready are the older names of /health/ready, kept for probes configured with them.
      if (req.method === 'GET' && READY_PATHS.has(url.pathname)) {
        if (draining) {
          send(res, 503, { status: 'unavailable', stopping: true });
          return;
        }
        const report = await options.ready().catch((): boolean => false);
        const { ready: ok, ...details } = typeof report === 'boolean' ? { ready: report } : report;
        send(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', ...details });
        return;
      }
      const route = options.routes?.[`${req.method} ${url.pathname}`];
      if (route) {
        const body = req.method === 'GET' ? Buffer.alloc(0) : await readBody(req, limit);
        const out = await route(req, body, requestId);
        if (out.body instanceof StreamedBody) await sendStreamed(res, out.status, out.body, out.headers);
        else send(res, out.status, out.body, out.headers);
        return;
      }
      if (url.pathname !== '/graphql' && url.pathname !== '/') {
        send(res, 404, { error: 'not found' });
        return;
      }
      // Health data: no cache, shared or private, may keep a GraphQL answer.
      res.setHeader('cache-control', 'no-store');
      const raw = req.method === 'POST' ? await readBody(req, limit) : Buffer.alloc(0);
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      let body: unknown = undefined;
      if (raw.length > 0) {
        const type = headers.get('content-type') ?? '';
        if (!type.includes('application/json')) {
          send(res, 415, { errors: [{ message: 'Send the request as JSON (content-type: application/json).', extensions: { code: 'BAD_REQUEST' } }] });
          return;
        }
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          send(res, 400, { errors: [{ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }] });
          return;
        }
      }
      const admitted = admitOperation(options, sizes, body, url.search);
      if ('status' in admitted) {
        send(res, admitted.status, admitted.body, admitted.headers);
        return;
      }
      const requested = currentRequestScope();
      if (requested) requested.requestedOperation = requestedOperation(admitted.body, admitted.search);
      const result = await options.apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: admitted.search, body: admitted.body },
        context: () => options.context(req, requestId),
      });
      for (const [key, value] of result.headers) res.setHeader(key, value);
      res.setHeader('cache-control', 'no-store');
      res.statusCode = result.status ?? 200;
      // A request refused before Apollo's plugins ran (its context failed: UNAUTHENTICATED, RATE_LIMITED) still counts its codes.
      const scope = currentRequestScope();
      if (scope && scope.codes.length === 0 && res.statusCode >= 400 && result.body.kind === 'complete') {
        try {
          scope.codes.push(...codesOf(JSON.parse(result.body.string)));
        } catch {
          // Not JSON: nothing to count.
        }
      }
      if (result.body.kind === 'complete') {
        res.end(limitResponse(result.body.string, sizes.maxResponseBytes).text);
      } else {
        for await (const chunk of result.body.asyncIterator) res.write(chunk);
        res.end();
      }
    } catch (e) {
      if (res.headersSent) {
        res.end();
        return;
      }
      if (e instanceof BodyTooLarge) {
        const reply = tooLarge(limit);
        send(res, reply.status, reply.body, reply.headers);
        return;
      }
      logger.error(`[http] unhandled ${(e as Error)?.name ?? 'error'} on ${req.method} ${url.pathname}`);
      send(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    }
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    // Once stopping, every answer closes its connection, so no keep-alive socket outlives the drain.
    if (draining) res.shouldKeepAlive = false;
    open.add(res);
    res.on('close', () => open.delete(res));
    const done: Promise<void> = handle(req, res).finally(() => running.delete(done));
    running.add(done);
  };
  const server: http.Server = options.tls ? https.createServer(options.tls, onRequest) : http.createServer(onRequest);
  // Above the gateway fetcher's 15 s keep-alive, so a reused socket is never closed under it.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  // `/metrics` served here: requests are counted from now on.
  const stopServingMetrics = options.metricsToken ? serveMetrics() : () => undefined;
  const graceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  let closing: Promise<void> | undefined;
  const close = async () => {
    draining = true;
    for (const res of open) if (!res.headersSent) res.shouldKeepAlive = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const settled = Promise.all([closed, Promise.allSettled([...running])]);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'cut'>((resolve) => (timer = setTimeout(() => resolve('cut'), graceMs)));
    const outcome = await Promise.race([settled, graceOver]);
    clearTimeout(timer);
    if (outcome !== 'cut') return;
    if (process.env.PORTAL_QUIET !== '1') logger.warn(`[http] shutdown grace of ${graceMs} ms over: cutting ${open.size} request(s) still in flight`);
    server.closeAllConnections();
    await Promise.race([Promise.allSettled([...running]), new Promise((resolve) => setTimeout(resolve, AFTER_CUT_WAIT_MS).unref())]);
  };
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${actual}`,
    port: actual,
    // Idempotent: a second signal or a second caller waits for the same stop.
    // Requests draining are still counted: this server stops serving the metrics once they are done.
    close: () => (closing ??= close().finally(stopServingMetrics)),
  };
}

const READY_PATHS: ReadonlySet<string> = new Set(['/health/ready', '/health', '/ready']);
