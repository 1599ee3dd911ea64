import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { GraphQLError } from 'graphql';
import {
  authenticationFailure,
  clientAddressOf,
  documentLimits,
  edgeOf,
  ErrorCode,
  listen,
  loadRequestIdSecret,
  maskError,
  PortalError,
  RateLimits,
  REQUEST_ID_HEADER,
  REQUEST_ID_PROOF_HEADER,
  requestIdProof,
  TokenVerifier,
  TrustedProxies,
  withoutSuggestions,
  type RouteHandler,
  type RunningServer,
} from '@portal/kit';
import { defaultSessionGuard, type SessionGuard } from '@portal/kit/src/auth/sessions';
import type { GatewayConfig } from './config';
import { readManifest } from './operations';
import { trustedDocuments } from './trustedDocuments';
import { SUBGRAPHS, SUPERGRAPH_FILE, type SubgraphName } from './subgraphs';

export interface GatewayContext {
  requestId: string;
  authorization?: string;
  /** The client's address as the gateway determined it; subgraphs that trust the gateway believe it. */
  clientAddress?: string;
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

/** Codes a subgraph answers with a status of their own (429, 503) that the client must get as they are. */
const PASSED_ON = new Set<unknown>([ErrorCode.RATE_LIMITED, ErrorCode.SERVICE_UNAVAILABLE]);

/**
 * Forwards the caller's credentials, the request id with its proof (an HMAC
 * with REQUEST_ID_SECRET over the id and the Authorization header) and the
 * client's address (as `X-Forwarded-For`, one hop: the address the gateway
 * determined; what the client sent is not passed on); every subgraph checks
 * the token itself.
 */
class AuthForwardingDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    config: ConstructorParameters<typeof RemoteGraphQLDataSource<GatewayContext>>[0],
    private readonly requestIdSecret: string,
  ) {
    super(config);
  }

  override willSendRequest({ request, context }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['willSendRequest']>>[0]) {
    request.http?.headers.set(REQUEST_ID_HEADER, context.requestId);
    request.http?.headers.set(REQUEST_ID_PROOF_HEADER, requestIdProof(this.requestIdSecret, context.requestId, context.authorization));
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
    if (context.clientAddress) request.http?.headers.set('x-forwarded-for', context.clientAddress);
  }

  /**
   * A subgraph's RATE_LIMITED (429) or SERVICE_UNAVAILABLE (503) reaches the
   * client with its code, its status and its Retry-After, instead of the
   * INTERNAL_SERVER_ERROR any other non-2xx answer becomes.
   */
  override async errorFromResponse(response: Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0]): Promise<GraphQLError> {
    if (response.status === 429 || response.status === 503) {
      const retryAfter = response.headers.get('retry-after');
      const body = (await response.clone().json().catch(() => null)) as { errors?: { message?: unknown; extensions?: { code?: unknown } }[] } | null;
      const error = body?.errors?.find((e) => PASSED_ON.has(e.extensions?.code));
      if (error && typeof error.message === 'string') {
        const seconds = retryAfter && /^\d{1,6}$/.test(retryAfter) ? retryAfter : '1';
        return new PortalError(error.extensions!.code as ErrorCode, error.message, {
          http: { status: response.status, headers: new HeaderMap([['retry-after', seconds]]) },
        });
      }
    }
    return super.errorFromResponse(response);
  }
}

/** Builds the gateway (static supergraph, no polling of subgraphs) and its Apollo Server; does not listen. */
export function createGateway(options: GatewayOptions): { apollo: ApolloServer<GatewayContext>; verifier: TokenVerifier; sessions: SessionGuard } {
  const { config } = options;
  const supergraphSdl = options.supergraphSdl ?? fs.readFileSync(SUPERGRAPH_FILE, 'utf8');
  const timeout = config.subgraphTimeoutMs;
  const requestIdSecret = loadRequestIdSecret(config.portal);
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name }) =>
      new AuthForwardingDataSource({
        url: `${config.subgraphUrls[name as SubgraphName]}/graphql`,
        // Node's fetch (undici) keeps sockets alive; the signal bounds a hung subgraph.
        fetcher: ((url: string, init: RequestInit) => fetch(url, { ...init, signal: AbortSignal.timeout(timeout) })) as never,
      }, requestIdSecret),
  });
  const production = config.portal.production;
  const edge = edgeOf(config.portal);
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
    formatError: (formatted, error) => (production ? withoutSuggestions(maskError(formatted, error)) : maskError(formatted, error)),
    plugins: [
      production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
    ],
  });
  const verifier = new TokenVerifier({ jwksUrl: `${config.subgraphUrls.identity}/.well-known/jwks.json` });
  const sessions = defaultSessionGuard(config.portal, config.subgraphUrls.identity);
  return { apollo, verifier, sessions };
}

/** Answers 200 only when every subgraph answers its own /health. */
async function allSubgraphsReady(config: GatewayConfig): Promise<boolean> {
  const results = await Promise.all(
    SUBGRAPHS.map((s) =>
      fetch(`${config.subgraphUrls[s.name]}/health`, { signal: AbortSignal.timeout(3_000) })
        .then((r) => r.ok)
        .catch(() => false),
    ),
  );
  return results.every(Boolean);
}

export async function startGateway(options: GatewayOptions): Promise<RunningServer> {
  const { config } = options;
  const edge = edgeOf(config.portal);
  const { apollo, verifier, sessions } = createGateway(options);
  await apollo.start();
  const portal = config.portal;
  const limits = new RateLimits({ settings: portal.rateLimits, redisUrl: portal.redisUrl, keyPrefix: portal.redisKeyPrefix });
  const trusted = new TrustedProxies(portal.trustedProxies);
  const clientAddress = (req: IncomingMessage) => clientAddressOf(req, trusted);

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
    return { requestId, authorization, clientAddress: address };
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
      ready: () => allSubgraphsReady(config),
      shutdownGraceMs: config.portal.shutdownGraceMs,
    },
    config.port,
    config.host,
  );
  return {
    ...server,
    close: async () => {
      await server.close();
      await apollo.stop();
      await sessions.close();
      await limits.close();
    },
  };
}
