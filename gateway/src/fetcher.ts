/**
 * The gateway's HTTP client for its subgraphs: undici's `request` on one
 * keep-alive `Pool` per subgraph, the body sent as one string. Node's `fetch`
 * (undici's fetch underneath) streams every request body and builds WHATWG
 * Request/Response objects around each call; on PortalView that was about a
 * third of the gateway's CPU. Here a request is one write and the answer one
 * string.
 *
 * Every way a subgraph can fail to answer (refused or reset connection, no
 * whole answer within the timeout) becomes a `SubgraphOutage` whose message
 * names the kind of failure only, never the address: the circuit breaker
 * counts it, and a log line may print it.
 */
import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import { Pool } from 'undici';
import { SubgraphOutage } from './resilience';

/** The subset of a fetch Response that Apollo's RemoteGraphQLDataSource and our data source read. */
export class SubgraphResponse {
  readonly ok: boolean;
  /** Left empty on purpose: Apollo copies a response's url into error extensions, and a subgraph's address is for no client. */
  readonly url = '';
  readonly headers: { get(name: string): string | null };

  constructor(
    readonly status: number,
    rawHeaders: Record<string, string | string[] | undefined>,
    private readonly body: string,
  ) {
    this.ok = status >= 200 && status < 300;
    this.headers = {
      get: (name: string) => {
        const v = rawHeaders[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
      },
    };
  }

  get statusText(): string {
    return STATUS_CODES[this.status] ?? '';
  }

  async text(): Promise<string> {
    return this.body;
  }

  /** A body that is not JSON throws SyntaxError, which counts as an outage. */
  async json(): Promise<unknown> {
    return JSON.parse(this.body);
  }

  clone(): SubgraphResponse {
    return this;
  }
}

export interface SubgraphClientOptions {
  /** Whole request, answer included. */
  timeoutMs: number;
  /** Sockets kept open to this subgraph (undici's `connections`); requests beyond wait for one. */
  connections?: number;
  /** How long an idle socket stays open; below Node's default 5 s server keepAliveTimeout so the server never closes one under us. */
  keepAliveTimeoutMs?: number;
}

/** One subgraph's connection pool. */
export class SubgraphClient {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly timeoutMs: number;

  constructor(url: string, options: SubgraphClientOptions) {
    const parsed = new URL(url);
    this.path = `${parsed.pathname}${parsed.search}`;
    this.timeoutMs = options.timeoutMs;
    this.pool = new Pool(parsed.origin, {
      connections: options.connections ?? 64,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
      keepAliveMaxTimeout: options.keepAliveTimeoutMs ?? 4_000,
      // The overall deadline below governs; these only stop undici's own (longer) defaults from applying first.
      headersTimeout: options.timeoutMs + 1_000,
      bodyTimeout: options.timeoutMs + 1_000,
      connectTimeout: Math.min(options.timeoutMs, 10_000),
    });
  }

  /** POSTs `body` (already JSON) and reads the whole answer within the timeout; a failure to get one is a SubgraphOutage. */
  async post(headers: Record<string, string>, body: string): Promise<SubgraphResponse> {
    // undici takes an EventEmitter as the abort signal ('abort'); it costs less than an AbortController per fetch.
    const abort = new EventEmitter();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.emit('abort');
    }, this.timeoutMs);
    try {
      const res = await this.pool.request({ method: 'POST', path: this.path, headers, body, signal: abort });
      const text = await res.body.text();
      return new SubgraphResponse(res.statusCode, res.headers, text);
    } catch (e) {
      if (timedOut) throw new SubgraphOutage(`no answer within ${this.timeoutMs} ms`);
      // A request we built wrong (a header value undici refuses) is a bug of ours, not the subgraph's outage.
      if ((e as { code?: unknown } | null)?.code === 'UND_ERR_INVALID_ARG') throw e;
      throw new SubgraphOutage(`no answer (${failureKind(e)})`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The `fetcher` Apollo's RemoteGraphQLDataSource calls: the URL is this pool's, the body Apollo's JSON string. */
  readonly fetcher = (_url: string, init: { headers: Record<string, string>; body: string }): Promise<SubgraphResponse> => this.post(init.headers, init.body);

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * The fetch's headers as a plain object (lower-case names, repeated values
 * joined as `, `). Apollo's are node-fetch `Headers`, whose iterator sorts
 * every name on each step (about 1% of the gateway's CPU on PortalView);
 * `raw()` reads its map as it is.
 */
export function plainHeaders(headers: Iterable<[string, string]>): Record<string, string> {
  const raw = (headers as { raw?: () => Record<string, string[]> }).raw;
  if (typeof raw !== 'function') return Object.fromEntries(headers);
  const out: Record<string, string> = {};
  for (const [name, values] of Object.entries(raw.call(headers))) out[name.toLowerCase()] = values.join(', ');
  return out;
}

/** The socket or undici error code (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, ...) or the class name; never a message, which can hold the address. */
function failureKind(e: unknown): string {
  const { code, name } = (typeof e === 'object' && e !== null ? e : {}) as { code?: unknown; name?: unknown };
  if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) return code;
  return typeof name === 'string' && /^\w{1,40}$/.test(name) ? name : 'Error';
}
