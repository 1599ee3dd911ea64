import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import {
  authenticationFailure,
  listen,
  loadRequestIdSecret,
  maskError,
  REQUEST_ID_HEADER,
  REQUEST_ID_PROOF_HEADER,
  requestIdProof,
  TokenVerifier,
  type RouteHandler,
  type RunningServer,
} from '@portal/kit';
import { defaultSessionGuard, type SessionGuard } from '@portal/kit/src/auth/sessions';
import type { GatewayConfig } from './config';
import { depthLimit } from './depthLimit';
import { SUBGRAPHS, SUPERGRAPH_FILE, type SubgraphName } from './subgraphs';

export interface GatewayContext {
  requestId: string;
  authorization?: string;
}

export interface GatewayOptions {
  config: GatewayConfig;
  /** Defaults to the committed schema/supergraph.graphql. */
  supergraphSdl?: string;
  /** Extra HTTP routes (e.g. the record download) by "METHOD /path". */
  routes?: (gateway: { execute: GatewayExecutor; verifier: TokenVerifier }) => Record<string, RouteHandler>;
}

export type GatewayExecutor = (query: string, variables: Record<string, unknown>, authorization?: string, requestId?: string) => Promise<{ data?: unknown; errors?: readonly unknown[] }>;

/**
 * Forwards the caller's credentials and the request id; every subgraph checks
 * the token itself, and takes the request id only with its proof (an HMAC
 * with REQUEST_ID_SECRET over the id and the Authorization header).
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
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: !production,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    // The process that owns the servers stops them on SIGINT/SIGTERM, in order.
    stopOnTerminationSignals: false,
    validationRules: [depthLimit()],
    formatError: (formatted, error) => maskError(formatted, error),
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
  const { apollo, verifier, sessions } = createGateway(options);
  await apollo.start();

  // The gateway assigns every request id itself (one sent by a client is never taken), sends it back
  // as x-request-id and forwards it to the subgraphs, which write it into their audit rows.
  const context = async (req: IncomingMessage, requestId: string): Promise<GatewayContext> => {
    const authorization = req.headers.authorization;
    try {
      const viewer = await verifier.fromAuthorizationHeader(authorization);
      // An ended session is refused here already; each subgraph checks again, trusting no caller.
      if (viewer && viewer.role !== 'SERVICE') await sessions.check(viewer);
    } catch (e) {
      throw authenticationFailure(e);
    }
    return { requestId, authorization };
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
      routes: options.routes?.({ execute, verifier }),
      ready: () => allSubgraphsReady(config),
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
    },
  };
}
