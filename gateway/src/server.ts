import fs from 'node:fs';
import path from 'node:path';
import type { ServerOptions as HttpsOptions } from 'node:https';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { sandboxLandingPage } from './sandbox';
import { SUBGRAPH_ERROR_CODES } from './generated/errorCodes';
import { GraphQLError } from 'graphql';
import {
  authenticationFailure,
  clientAddressOf,
  clientCertificateProof,
  connectionCertificate,
  documentLimits,
  edgeOf,
  ErrorCode,
  FORWARDED_CLIENT_CERT_HEADER,
  FORWARDED_CLIENT_CERT_PROOF_HEADER,
  injectTraceHeaders,
  joinMetricsServer,
  joinTracing,
  listen,
  logger,
  metricsOn,
  observeOperations,
  subgraphFetchDuration,
  loadRequestIdSecret,
  maskError,
  passesCodes,
  normalizeAddress,
  parseClientCertHeader,
  RateLimits,
  REQUEST_ID_HEADER,
  REQUEST_ID_PROOF_HEADER,
  requestIdProof,
  TokenVerifier,
  tracingOn,
  TrustedProxies,
  withoutSuggestions,
  type ReadyReport,
  type RouteHandler,
  type RunningServer,
} from '@portal/kit';
import { defaultSessionGuard, type SessionGuard } from '@portal/kit';
import type { GatewayConfig } from './config';
import { readManifest } from './operations';
import { trustedDocuments } from './trustedDocuments';
import { plainHeaders, SubgraphClient } from './fetcher';
import { FetchWaves, isEntityFetch, type MergeLimits, type SubgraphAnswer, type SubgraphRequestBody, type WaveSender } from './fetchWaves';
import {
  BrokenCircuitError,
  breakerOpen,
  isOutage,
  outageKind,
  sectionErrors,
  SECTION_UNAVAILABLE,
  SubgraphOutage,
  SubgraphRefusal,
  subgraphBreaker,
  wholeAnswerStatus,
  type Breaker,
} from './resilience';
import { SUBGRAPHS, SUPERGRAPH_FILE, type SubgraphName } from './subgraphs';

export interface GatewayContext {
  requestId: string;
  authorization?: string;
  /** The client's address as the gateway determined it; subgraphs that trust the gateway believe it. */
  clientAddress?: string;
  /** The client certificate (base64 DER) of the TLS handshake: the gateway's own, or a trusted proxy's (CLIENT_CERT_HEADER). Forwarded to identity only. */
  clientCertificate?: string;
}

export interface GatewayOptions {
  config: GatewayConfig;
  /** Defaults to the committed schema/supergraph.graphql. */
  supergraphSdl?: string;
  /** Extra HTTP routes (e.g. the record download) by "METHOD /path". */
  routes?: (gateway: GatewayRouteDeps) => Record<string, RouteHandler>;
}

/** What the gateway gives its extra routes. */
export interface GatewayRouteDeps {
  execute: GatewayExecutor;
  verifier: TokenVerifier;
  limits: RateLimits;
  clientAddress(req: IncomingMessage): string;
}

export type GatewayExecutor = (query: string, variables: Record<string, unknown>, authorization?: string, requestId?: string) => Promise<{ data?: unknown; errors?: readonly unknown[] }>;

/** Codes a subgraph answers with a status of their own (429, 503) and a message meant for the client. */
/**
 * The codes that reach a client: the kit's generic ones and every subgraph's
 * own, from the list `npm run docs:error-codes` generates from the subgraphs'
 * registries (the gateway imports no subgraph). Any other code is masked.
 */
const PUBLIC_CODES = passesCodes(Object.values(SUBGRAPH_ERROR_CODES));

const PASSED_ON = new Set<unknown>([ErrorCode.RATE_LIMITED, ErrorCode.SERVICE_UNAVAILABLE]);

/** The request id proof of each request's context, computed at its first subgraph fetch. */
const PROOFS = new WeakMap<object, string>();

type ProcessOptions = Parameters<RemoteGraphQLDataSource<GatewayContext>['process']>[0];
type FetchResponse = Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0];
type SendRequest = Parameters<RemoteGraphQLDataSource<GatewayContext>['process']>[0]['request'];
type SendResponse = Awaited<ReturnType<RemoteGraphQLDataSource<GatewayContext>['process']>>;

/**
 * Forwards the caller's credentials, the request id with its proof (an HMAC
 * with REQUEST_ID_SECRET over the id and the Authorization header) and the
 * client's address (as `X-Forwarded-For`, one hop: the address the gateway
 * determined; what the client sent is not passed on); every subgraph checks
 * the token itself.
 *
 * A fetch that fails (see resilience.ts) answers the gateway as if the
 * subgraph had sent an error for each field it was to supply, so the client
 * gets the rest of the answer and, at each missing field's path, the code.
 */
class AuthForwardingDataSource extends RemoteGraphQLDataSource<GatewayContext> implements WaveSender<SendResponse> {
  constructor(
    config: ConstructorParameters<typeof RemoteGraphQLDataSource<GatewayContext>>[0],
    private readonly requestIdSecret: string,
    private readonly breaker: Breaker,
    private readonly outageRetryAfterSeconds: number,
    private readonly forwardsCertificate: boolean,
    /** Entity fetches merged per wave (SUBGRAPH_FETCH_MERGING); undefined sends each as Apollo plans it. */
    private readonly waves: FetchWaves<GatewayContext> | undefined,
    /** The subgraphs' document limits a merged operation must stay within. */
    readonly limits: MergeLimits,
  ) {
    super(config);
    if (typeof (this as unknown as { sendRequest?: unknown }).sendRequest !== 'function') throw new Error('@apollo/gateway changed: RemoteGraphQLDataSource has no sendRequest to replace');
    (this as unknown as { sendRequest: unknown }).sendRequest = this.sendWithoutRequestObject.bind(this);
  }

  override willSendRequest({ request, context }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['willSendRequest']>>[0]) {
    request.http?.headers.set(REQUEST_ID_HEADER, context.requestId);
    // One HMAC per client request, not one per subgraph fetch: the id and the token are the same for all of them.
    let proof = PROOFS.get(context);
    if (proof === undefined) PROOFS.set(context, (proof = requestIdProof(this.requestIdSecret, context.requestId, context.authorization)));
    request.http?.headers.set(REQUEST_ID_PROOF_HEADER, proof);
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
    if (context.clientAddress) request.http?.headers.set('x-forwarded-for', context.clientAddress);
    // Identity signs in with it (signInWithClientCertificate) and believes it only with this proof.
    if (this.forwardsCertificate && context.clientCertificate) {
      request.http?.headers.set(FORWARDED_CLIENT_CERT_HEADER, context.clientCertificate);
      request.http?.headers.set(FORWARDED_CLIENT_CERT_PROOF_HEADER, clientCertificateProof(this.requestIdSecret, context.requestId, context.clientCertificate));
    }
  }

  /**
   * Apollo's (private) `sendRequest`, less the node-fetch `Request` it builds
   * on every fetch only to hand it to `didEncounterError` and `parseBody`
   * (neither of ours reads it): the body is serialised once and goes to the
   * fetcher as Apollo would send it. Installed in the constructor, since
   * TypeScript lets no subclass redeclare a private method; the gateway tests
   * run through it, so an Apollo upgrade that renames it fails them.
   *
   * With fetch merging on, an entity fetch waits for its wave (fetchWaves.ts)
   * and every other fetch is counted while in flight.
   */
  private async sendWithoutRequestObject(request: SendRequest, context: GatewayContext): Promise<SendResponse> {
    if (!request.http) throw new Error("Internal error: Only 'http' requests are supported.");
    const { http, ...body } = request;
    const headers = plainHeaders(http.headers);
    // Apollo's own requests (a health check, the schema) come without a client request's context.
    if (!this.waves || typeof context !== 'object' || context === null) return this.answer(headers, body);
    if (isEntityFetch(body)) return this.waves.hold(context, this, headers, body);
    return this.waves.direct(context, () => this.answer(headers, body));
  }

  private async answer(headers: Record<string, string>, body: SubgraphRequestBody): Promise<SendResponse> {
    return (await this.post(headers, body, false)) as SendResponse;
  }

  /**
   * One HTTP request to the subgraph, through its circuit breaker: the parsed
   * answer, or (when `refusable`, for a merged operation) `'refused'` on a 400,
   * so that its parts can go alone. A 2xx without data or errors is an outage.
   */
  async post(headers: Record<string, string>, body: SubgraphRequestBody, refusable: boolean): Promise<SendResponse | 'refused'> {
    return this.breaker.execute(async () => {
      let fetchResponse: FetchResponse | undefined;
      try {
        fetchResponse = await this.fetcher(this.url!, { method: 'POST', headers, body: JSON.stringify(body) });
        if (refusable && fetchResponse.status === 400) return 'refused';
        if (!fetchResponse.ok) throw await this.errorFromResponse(fetchResponse);
        const answer = (await this.parseBody(fetchResponse)) as SubgraphAnswer | null;
        if (typeof answer !== 'object' || answer === null) throw new Error(`Expected JSON response body, but received: ${answer}`);
        if (!Array.isArray(answer.errors) && (typeof answer.data !== 'object' || answer.data === null)) throw new SubgraphOutage('answered without data or errors');
        return { ...answer, http: fetchResponse } as SendResponse;
      } catch (error) {
        this.didEncounterError(error as Error, undefined, fetchResponse);
        throw error;
      }
    });
  }

  bodyOf(response: SendResponse): SubgraphAnswer {
    return response as unknown as SubgraphAnswer;
  }

  withBody(response: SendResponse, body: SubgraphAnswer): SendResponse {
    return { ...body, http: response.http } as SendResponse;
  }

  override async process(options: ProcessOptions): ReturnType<RemoteGraphQLDataSource<GatewayContext>['process']> {
    try {
      return await super.process(options);
    } catch (e) {
      const failure =
        e instanceof SubgraphRefusal
          ? { code: e.code, message: e.message, retryAfterSeconds: e.retryAfterSeconds }
          : e instanceof BrokenCircuitError || isOutage(e)
            ? { code: ErrorCode.SERVICE_UNAVAILABLE, message: SECTION_UNAVAILABLE, retryAfterSeconds: this.outageRetryAfterSeconds }
            : undefined;
      if (!failure) throw e;
      const document = 'document' in options ? options.document : undefined;
      return sectionErrors(options.request, document, failure) as Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;
    }
  }

  /**
   * A subgraph's own RATE_LIMITED (429) or SERVICE_UNAVAILABLE (503) keeps its
   * code, message and Retry-After; any other 5xx is an outage; other statuses
   * (4xx) are left to Apollo (UNAUTHENTICATED, FORBIDDEN, or masked).
   */
  override async errorFromResponse(response: FetchResponse): Promise<GraphQLError> {
    if (response.status === 429 || response.status === 503) {
      const retryAfter = response.headers.get('retry-after');
      const body = (await response.clone().json().catch(() => null)) as { errors?: { message?: unknown; extensions?: { code?: unknown } }[] } | null;
      const error = body?.errors?.find((e) => PASSED_ON.has(e.extensions?.code));
      if (error && typeof error.message === 'string') {
        const seconds = retryAfter && /^\d{1,6}$/.test(retryAfter) ? Math.max(1, Number(retryAfter)) : 1;
        throw new SubgraphRefusal(error.extensions!.code as typeof ErrorCode.RATE_LIMITED, error.message, seconds);
      }
    }
    if (response.status >= 500) throw new SubgraphOutage(`answered ${response.status}`);
    return super.errorFromResponse(response);
  }

  /** A 2xx whose body is not JSON (a proxy's page, a cut-off answer) is an outage too, not a bug to mask. */
  override didEncounterError(error: Error, _fetchRequest: unknown, fetchResponse?: FetchResponse): void {
    if (fetchResponse?.ok && !isOutage(error)) throw new SubgraphOutage('answered 2xx with a body that is not a GraphQL response');
    throw error;
  }
}

/** Builds the gateway (static supergraph, no polling of subgraphs) and its Apollo Server; does not listen. */
export function createGateway(options: GatewayOptions): {
  apollo: ApolloServer<GatewayContext>;
  verifier: TokenVerifier;
  sessions: SessionGuard;
  breakers: Record<SubgraphName, Breaker>;
  /** Closes the subgraph connection pools (after the server has drained). */
  closeClients(): Promise<void>;
} {
  const { config } = options;
  const supergraphSdl = options.supergraphSdl ?? fs.readFileSync(SUPERGRAPH_FILE, 'utf8');
  const timeout = config.subgraphTimeoutMs;
  const requestIdSecret = loadRequestIdSecret(config.portal);
  const breakers = breakersFor(config);
  // One keep-alive pool per subgraph; the timeout bounds a hung subgraph, answer included.
  const clients = Object.fromEntries(
    SUBGRAPHS.map(({ name }) => [name, new SubgraphClient(`${config.subgraphUrls[name]}/graphql`, { timeoutMs: timeout })]),
  ) as Record<SubgraphName, SubgraphClient>;
  const edge = edgeOf(config.portal);
  const waves = config.mergeEntityFetches !== false ? new FetchWaves<GatewayContext>() : undefined;
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name }) =>
      new AuthForwardingDataSource(
        {
          url: `${config.subgraphUrls[name as SubgraphName]}/graphql`,
          // Apollo serialises the body once into a string; it goes out as one write on a kept-alive socket,
          // with the trace context, timed per subgraph.
          fetcher: timedFetch(name, (url: string, init: { headers: Record<string, string>; body: string }) =>
            clients[name as SubgraphName].fetcher(url, tracingOn() ? { ...init, headers: injectTraceHeaders({ ...init.headers }) } : init),
          ) as never,
        },
        requestIdSecret,
        breakers[name as SubgraphName],
        Math.ceil(config.breaker.resetMs / 1000),
        name === 'identity',
        waves,
        edge.document,
      ),
  });
  const production = config.portal.production;
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: !production,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    // The process that owns the servers stops them on SIGINT/SIGTERM, in order.
    stopOnTerminationSignals: false,
    validationRules: [documentLimits(edge.document)],
    parseOptions: { maxTokens: edge.document.maxTokens },
    // Production names no field a caller did not: graphql-js's suggestions would map the schema.
    formatError: (formatted, error) =>
      production ? withoutSuggestions(maskError(formatted, error, PUBLIC_CODES)) : maskError(formatted, error, PUBLIC_CODES),
    plugins: [
      wholeAnswerStatus,
      observeOperations,
      production ? ApolloServerPluginLandingPageDisabled() : sandboxLandingPage(),
      // Every answer goes out `no-store`: no cache policy to gather from the subgraphs' headers.
      ApolloServerPluginCacheControlDisabled(),
    ],
  });
  const verifier = new TokenVerifier({ jwksUrl: `${config.subgraphUrls.identity}/.well-known/jwks.json`, timeoutMs: config.portal.identityTimeoutMs, cache: config.portal.tokenCache });
  const sessions = defaultSessionGuard(config.portal, config.subgraphUrls.identity);
  const closeClients = async () => {
    await Promise.all(Object.values(clients).map((c) => c.close().catch(() => undefined)));
  };
  return { apollo, verifier, sessions, breakers, closeClients };
}

/**
 * Times each fetch to a subgraph (portal_gateway_subgraph_fetch_duration_seconds)
 * until its answer's headers arrive, by outcome. Whatever fetcher runs inside
 * must add the trace headers (`injectTraceHeaders`) itself.
 */
export function timedFetch<A extends unknown[], R extends { status: number }>(subgraph: string, fetcher: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    // Nothing serves the metrics: no timer.
    if (!metricsOn()) return fetcher(...args);
    const end = subgraphFetchDuration.startTimer({ subgraph });
    try {
      const response = await fetcher(...args);
      end({ outcome: response.status < 400 ? 'ok' : `http_${Math.floor(response.status / 100)}xx` });
      return response;
    } catch (e) {
      end({ outcome: (e as Error)?.name === 'TimeoutError' ? 'timeout' : 'error' });
      throw e;
    }
  };
}

function breakersFor(config: GatewayConfig): Record<SubgraphName, Breaker> {
  const quiet = process.env.PORTAL_QUIET === '1';
  return Object.fromEntries(
    SUBGRAPHS.map(({ name }) => {
      const breaker = subgraphBreaker(config.breaker);
      if (!quiet) {
        // Each outage (the open circuit stops them after `failures` in a row) and each state change; never the request.
        breaker.onFailure(({ handled, reason }) => {
          if (handled && 'error' in reason) logger.warn(`[gateway] ${name}: unavailable (${outageKind(reason.error)})`);
        });
        breaker.onBreak(() => logger.warn(`[gateway] ${name}: circuit open after ${config.breaker.failures} failures in a row; its fields answer SERVICE_UNAVAILABLE at once for ${config.breaker.resetMs} ms`));
        breaker.onReset(() => logger.warn(`[gateway] ${name}: circuit closed, answering again`));
      }
      return [name, breaker];
    }),
  ) as Record<SubgraphName, Breaker>;
}

/**
 * Ready when the gateway can serve: identity (every token is checked against
 * it) answers its /health. Any other subgraph down, or with its circuit open,
 * makes it degraded but still ready: its sections answer SERVICE_UNAVAILABLE
 * while the rest of the graph serves, so a load balancer should keep it.
 */
export async function gatewayReadiness(config: GatewayConfig, breakers: Record<SubgraphName, Breaker>): Promise<ReadyReport> {
  const probeMs = Math.min(3_000, config.subgraphTimeoutMs);
  const states = await Promise.all(
    SUBGRAPHS.map(async ({ name }): Promise<[SubgraphName, SubgraphState]> => {
      const up = await fetch(`${config.subgraphUrls[name]}/health`, { signal: AbortSignal.timeout(probeMs) })
        .then((r) => r.ok)
        .catch(() => false);
      return [name, !up ? 'down' : breakerOpen(breakers[name]) ? 'circuit-open' : 'up'];
    }),
  );
  const subgraphs = Object.fromEntries(states) as Record<SubgraphName, SubgraphState>;
  // Identity's /health decides, not its circuit: a replica taken out of rotation gets no request to probe
  // identity with, so a circuit that decided readiness would keep it out for good.
  return { ready: subgraphs.identity !== 'down', degraded: states.filter(([, s]) => s !== 'up').map(([name]) => name), subgraphs };
}

/** `circuit-open`: it answers /health, but its recent requests failed, so its fields fail at once until the next request to it, a probe, succeeds. */
type SubgraphState = 'up' | 'down' | 'circuit-open';

export async function startGateway(options: GatewayOptions): Promise<RunningServer> {
  const { config } = options;
  const edge = edgeOf(config.portal);
  const tracing = joinTracing('portal-gateway');
  const { apollo, verifier, sessions, breakers, closeClients } = createGateway(options);
  await apollo.start();
  const portal = config.portal;
  const limits = new RateLimits({ settings: portal.rateLimits, redisUrl: portal.redisUrl, keyPrefix: portal.redisKeyPrefix });
  const trusted = new TrustedProxies(portal.trustedProxies);
  const clientAddress = (req: IncomingMessage) => clientAddressOf(req, trusted);
  const clientCertificate = (req: IncomingMessage) => clientCertificateOf(req, trusted, config.clientCertHeader);

  // The gateway assigns every request id itself (one sent by a client is never taken), sends it back
  // as x-request-id and forwards it to the subgraphs, which write it into their audit rows.
  const context = async (req: IncomingMessage, requestId: string): Promise<GatewayContext> => {
    const authorization = req.headers.authorization;
    const address = clientAddress(req);
    // Refused before the document is even parsed: a flood of anonymous requests costs one counter each.
    if (!authorization) await limits.consume('anonymous', address);
    try {
      const viewer = await verifier.fromAuthorizationHeader(authorization);
      // An ended session is refused here already; each subgraph checks again, trusting no caller.
      if (viewer && viewer.role !== 'SERVICE') await sessions.check(viewer);
    } catch (e) {
      throw authenticationFailure(e);
    }
    return { requestId, authorization, clientAddress: address, clientCertificate: clientCertificate(req) };
  };

  const execute: GatewayExecutor = async (query, variables, authorization, requestId = randomUUID()) => {
    const res = await apollo.executeOperation({ query, variables }, { contextValue: { requestId, authorization } });
    if (res.body.kind !== 'single') throw new Error('unexpected incremental response');
    return res.body.singleResult;
  };

  const server = await listen<GatewayContext>(
    {
      apollo,
      context,
      requestId: () => randomUUID(),
      routes: options.routes?.({ execute, verifier, limits, clientAddress }),
      maxBodyBytes: edge.maxBodyBytes,
      sizes: edge,
      corsOrigins: edge.corsOrigins,
      production: config.portal.production,
      // The gateway's own executor (the record download) is not an HTTP client: only HTTP requests are admitted by hash.
      admit: edge.trustedDocuments ? trustedDocuments(readManifest(), edge.document.maxTokens) : undefined,
      ready: () => gatewayReadiness(config, breakers),
      shutdownGraceMs: config.portal.shutdownGraceMs,
      tls: config.tls ? tlsOptions(config) : undefined,
      service: 'gateway',
      // The public's traceparent is not continued: each request starts a trace of the gateway's own.
      trustTraceContext: false,
      metricsToken: portal.metrics?.token,
    },
    config.port,
    config.host,
  );
  const metricsServer = await joinMetricsServer(portal.metrics);
  return {
    ...server,
    close: async () => {
      await server.close();
      await apollo.stop();
      await closeClients();
      await sessions.close();
      await limits.close();
      await metricsServer?.leave();
      await tracing.leave();
    },
  };
}

/**
 * The certificate a client signed in with in the TLS handshake, base64 DER:
 * the gateway's own connection's when it serves HTTPS; otherwise, only when
 * the socket's peer is a trusted proxy, the one in its CLIENT_CERT_HEADER.
 * Anyone else's header is ignored. Identity makes every check of the card.
 */
export function clientCertificateOf(req: IncomingMessage, trusted: TrustedProxies, header: string | undefined): string | undefined {
  const own = connectionCertificate(req);
  if (own) return own.toString('base64');
  if (!header || !trusted.has(normalizeAddress(req.socket.remoteAddress ?? ''))) return undefined;
  return parseClientCertHeader(req.headers[header])?.toString('base64');
}

/**
 * HTTPS that asks (never requires) each client for a certificate, naming the
 * smart-card CAs so a browser offers the card: pages and the other sign-ins
 * work without one. The handshake proves the client holds the card's key
 * whatever the chain; rejectUnauthorized is off so that identity, not the
 * handshake, judges the certificate (chain, dates, CRLs, kind, registration)
 * and answers with its codes.
 */
function tlsOptions(config: GatewayConfig): HttpsOptions {
  const tls = config.tls!;
  // Outside production without SMARTCARD_CA_FILE, the development PKI's CAs (identity writes them on its first start).
  const caFile = config.portal.smartcardCaFile ?? path.join(config.portal.dataDir, 'pki', 'ca.pem');
  if (config.portal.smartcardCaFile && !fs.existsSync(caFile)) throw new Error(`SMARTCARD_CA_FILE: ${caFile} does not exist.`);
  return {
    cert: fs.readFileSync(tls.certFile),
    key: fs.readFileSync(tls.keyFile),
    requestCert: true,
    rejectUnauthorized: false,
    ...(fs.existsSync(caFile) ? { ca: pemCertificates(fs.readFileSync(caFile, 'utf8')) } : {}),
    minVersion: 'TLSv1.2',
  };
}

/** Each certificate of a PEM bundle on its own, so one whose blocks are not separated by a newline still loads. */
function pemCertificates(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g) ?? [];
}
