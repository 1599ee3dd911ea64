/**
 * Prometheus metrics of the process (prom-client), one registry for every
 * service it runs: the stack of `npm start` runs six in one process, so each
 * series carries a `service` label.
 *
 * They are never public by default: served on a port of their own
 * (METRICS_PORT, on METRICS_HOST) and/or as `/metrics` on each service's own
 * port when METRICS_TOKEN is set, which a scrape must then send as a bearer
 * token (on the metrics port too, when both are set). With neither set,
 * nothing serves them.
 *
 * Labels are bounded: operation names are taken only while fewer than
 * MAX_OPERATIONS distinct ones were seen (later ones count as `other`), codes
 * only from the error registry's shape.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsSettings {
  /** A port of its own for GET /metrics; none when unset. */
  port?: number;
  /** Where that port listens; 127.0.0.1 unless told (0.0.0.0 for a scraper in the cluster). */
  host: string;
  /** When set: a scrape must send `Authorization: Bearer <token>`, and each service also answers `/metrics` on its own port. */
  token?: string;
}

const MIN_TOKEN_LENGTH = 16;

/** METRICS_PORT, METRICS_HOST and METRICS_TOKEN. */
export function readMetricsSettings(env: NodeJS.ProcessEnv = process.env): MetricsSettings {
  const raw = env.METRICS_PORT?.trim();
  let port: number | undefined;
  if (raw) {
    port = Number(raw);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error('METRICS_PORT must be a port number from 0 to 65535.');
  }
  const token = env.METRICS_TOKEN || undefined;
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) throw new Error(`METRICS_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters.`);
  return { port, host: env.METRICS_HOST || '127.0.0.1', token };
}

export const registry = new Registry();

/** How many servers of this process serve the metrics (the metrics port, or `/metrics` with METRICS_TOKEN). */
let readers = 0;

/**
 * Whether anything of this process serves the metrics. With nothing to serve
 * them (neither METRICS_PORT nor METRICS_TOKEN), requests are not counted or
 * timed: no series would ever be read.
 */
export const metricsOn = (): boolean => readers > 0;

/** A server that serves the metrics counts itself in until the returned function is called (once). */
export function serveMetrics(): () => void {
  readers++;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    readers--;
  };
}
// Node's own (process_*, nodejs_*), unprefixed, as the common Node.js dashboards expect them.
collectDefaultMetrics({ register: registry });

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const httpRequests = new Counter({
  name: 'portal_http_requests_total',
  help: 'HTTP requests answered, by service, GraphQL operation name (or route) and outcome (ok, partial: data with errors, client_error: 4xx, server_error: 5xx).',
  labelNames: ['service', 'operation', 'outcome'] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: 'portal_http_request_duration_seconds',
  help: 'Time from a request to its answer, by service and GraphQL operation name (or route).',
  labelNames: ['service', 'operation'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const graphqlErrors = new Counter({
  name: 'portal_graphql_errors_total',
  help: 'Errors answered, by service and extensions.code.',
  labelNames: ['service', 'code'] as const,
  registers: [registry],
});

export const subgraphFetchDuration = new Histogram({
  name: 'portal_gateway_subgraph_fetch_duration_seconds',
  help: "The gateway's fetches to a subgraph, by subgraph and outcome (ok, http_<status class>, timeout, error).",
  labelNames: ['subgraph', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const rateLimitRefusals = new Counter({
  name: 'portal_rate_limit_refusals_total',
  help: 'Requests refused by a rate limit (429), by service and limit.',
  labelNames: ['service', 'limit'] as const,
  registers: [registry],
});

/** Gauges read at scrape time from whatever registered a source (a data source, an outbox, the sessions table). */
type Sample = { labels: Record<string, string>; value: number };
const sources = {
  pool: new Set<() => Sample[]>(),
  outbox: new Set<() => Promise<Sample[]>>(),
  sessions: new Set<() => Promise<Sample[]>>(),
};

async function fill(gauge: Gauge<string>, readers: Iterable<() => Sample[] | Promise<Sample[]>>): Promise<void> {
  gauge.reset();
  const all = await Promise.all([...readers].map((read) => Promise.resolve(read()).catch((): Sample[] => [])));
  for (const samples of all) for (const { labels, value } of samples) gauge.set(labels, value);
}

new Gauge({
  name: 'portal_db_pool_connections',
  help: 'PostgreSQL pool connections by service and state (total, idle, waiting: requests waiting for one; max: the bound). SQLite reports none.',
  labelNames: ['service', 'state'] as const,
  registers: [registry],
  async collect() {
    await fill(this, sources.pool);
  },
});

new Gauge({
  name: 'portal_outbox_rows',
  help: 'Outbox rows by outbox and state: pending (the backlog) and dead (dead letters, never tried again).',
  labelNames: ['outbox', 'state'] as const,
  registers: [registry],
  async collect() {
    await fill(this, sources.outbox);
  },
});

new Gauge({
  name: 'portal_sessions_active',
  help: "Sessions not ended, not past their end and used within the idle limit, from identity's session table.",
  labelNames: ['service'] as const,
  registers: [registry],
  async collect() {
    await fill(this, sources.sessions);
  },
});

/** Registers a reader of a gauge's samples until the returned function is called. */
function register<T>(set: Set<T>, reader: T): () => void {
  set.add(reader);
  return () => void set.delete(reader);
}

/** The pool of a PostgreSQL data source (TypeORM's driver keeps pg's Pool as `master`). */
export function registerDatabasePool(service: string, driver: unknown, max: number): () => void {
  return register(sources.pool, () => {
    const pool = (driver as { master?: { totalCount: number; idleCount: number; waitingCount: number } }).master;
    if (!pool) return [];
    return [
      { labels: { service, state: 'total' }, value: pool.totalCount },
      { labels: { service, state: 'idle' }, value: pool.idleCount },
      { labels: { service, state: 'waiting' }, value: pool.waitingCount },
      { labels: { service, state: 'max' }, value: max },
    ];
  });
}

export function registerOutbox(outbox: string, counts: () => Promise<{ pending: number; dead: number }>): () => void {
  return register(sources.outbox, async () => {
    const { pending, dead } = await counts();
    return [
      { labels: { outbox, state: 'pending' }, value: pending },
      { labels: { outbox, state: 'dead' }, value: dead },
    ];
  });
}

export function registerActiveSessions(service: string, count: () => Promise<number>): () => void {
  return register(sources.sessions, async () => [{ labels: { service }, value: await count() }]);
}

const MAX_OPERATIONS = 200;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const seenOperations = new Set<string>();

/** An operation name as a label: a name seen before, a new one while there is room, otherwise `other`. */
export function operationLabel(name: string | undefined | null): string {
  if (!name) return 'anonymous';
  if (!OPERATION_NAME.test(name)) return 'other';
  if (seenOperations.has(name)) return name;
  if (seenOperations.size >= MAX_OPERATIONS) return 'other';
  seenOperations.add(name);
  return name;
}

export const codeLabel = (code: unknown): string => (typeof code === 'string' && CODE.test(code) ? code : 'OTHER');

export type Outcome = 'ok' | 'partial' | 'client_error' | 'server_error';

export function outcomeOf(status: number, errors: number): Outcome {
  if (status >= 500) return 'server_error';
  if (status >= 400) return 'client_error';
  return errors > 0 ? 'partial' : 'ok';
}

/** Whether a scrape may read: always without a token, with it only when the bearer token matches. */
export function scrapeAllowed(authorization: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const given = Buffer.from(/^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The exposition text and its content type. */
export async function scrape(): Promise<{ contentType: string; text: string }> {
  return { contentType: registry.contentType, text: await registry.metrics() };
}

let shared: { server: http.Server; port: number; users: number; closing?: Promise<void> } | undefined;

/** The port the process's metrics server listens on, while one does. */
export const metricsServerPort = (): number | undefined => (shared && !shared.closing ? shared.port : undefined);

/**
 * Starts the process's metrics server on METRICS_PORT, or joins the one a
 * service of this process started already (the stack runs six on one port);
 * the last to leave closes it. Returns the port, or undefined without one.
 */
export async function joinMetricsServer(settings: MetricsSettings | undefined): Promise<{ port: number; leave(): Promise<void> } | undefined> {
  if (settings?.port === undefined) return undefined;
  if (!shared || shared.closing) {
    const server = http.createServer(async (req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      if (!scrapeAllowed(req.headers.authorization, settings.token)) {
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('unauthorized');
        return;
      }
      try {
        const { contentType, text } = await scrape();
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(text);
      } catch {
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable');
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(settings.port, settings.host, () => resolve());
    });
    shared = { server, port: (server.address() as AddressInfo).port, users: 0 };
  }
  const current = shared;
  current.users++;
  const stopServing = serveMetrics();
  let left = false;
  return {
    port: current.port,
    async leave() {
      if (left) return;
      left = true;
      stopServing();
      if (--current.users > 0) return;
      current.closing = new Promise<void>((resolve) => current.server.close(() => resolve()));
      current.server.closeAllConnections();
      await current.closing;
      if (shared === current) shared = undefined;
    },
  };
}
