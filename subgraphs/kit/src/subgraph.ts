import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { DocumentNode } from 'graphql';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { DataSource, EntitySchema, MixedList } from 'typeorm';
import { Access, remoteCareAccess, remoteCareTeams, remotePharmacyAccess, remoteProxyAccess, type CareAccessCheck, type CareTeamsCheck, type PharmacyAccessCheck, type ProxyAccessCheck } from './access';
import { AuditEventEntity, AuditTrail } from './audit';
import { AUDIT_MIGRATIONS, auditEventsRoute } from './accessLog';
import { defaultSessionGuard, type SessionGuard } from './auth/sessions';
import { TokenVerifier, type Viewer } from './auth/tokens';
import { DEFAULT_DATABASE_POOL, DEFAULT_IDENTITY_TIMEOUT_MS, edgeOf, type PortalConfig } from './config';
import { documentLimits } from './edge/documentLimits';
import { guardFederationFields, withoutSuggestions } from './edge/schemaPrivacy';
import { DEFAULT_EDGE_SETTINGS, type EdgeSettings } from './edge/settings';
import { clientAddressOf, TrustedProxies } from './clientAddress';
import { isDatabaseUnavailable, openDatabase, type PortalDataSource } from './db';
import { authenticationFailure, ErrorCode, INTERNAL_MESSAGE, maskError, passesCodes, UNAVAILABLE_MESSAGE, type ErrorCodeRegistry } from './errors';
import { listen, observeOperations, type RouteHandler, type RunningServer } from './http';
import { logger } from './logging';
import { joinMetricsServer, registerDatabasePool } from './metrics';
import { joinTracing, traceStatements } from './tracing';
import { RateLimits } from './rateLimit';
import { loadRequestIdSecret, subgraphRequestId } from './requestId';
import { forwardedClientCertificate } from './clientCertificate';

/** The resolver map as buildSubgraphSchema declares it (not exported by @apollo/subgraph's entry point). */
type SchemaModuleResolvers = NonNullable<Exclude<Extract<Parameters<typeof buildSubgraphSchema>[0], readonly unknown[]>[number], DocumentNode>['resolvers']>;

/** What every resolver of every subgraph receives. */
export interface SubgraphContext {
  requestId: string;
  viewer: Viewer | null;
  access: Access;
  audit: AuditTrail;
  db: DataSource;
  /** The caller's address: the socket's peer, or what a trusted proxy (the gateway) says it is. */
  clientAddress: string;
  /** The process's rate limiters, shared through Redis when REDIS_URL is set. */
  limits: RateLimits;
  /** The client certificate (base64 DER) of the caller's TLS handshake, when the gateway forwarded one with its proof (clientCertificate.ts). */
  clientCertificate?: string;
}

export interface SubgraphRuntime {
  config: PortalConfig;
  database: PortalDataSource;
  verifier: TokenVerifier;
  limits: RateLimits;
  /** The caller's address, for routes outside GraphQL (see clientAddressOf). */
  clientAddress(req: IncomingMessage): string;
}

/** A subgraph described once; `startSubgraph` turns it into a running server. */
export interface SubgraphModule<C extends SubgraphContext> {
  name: string;
  typeDefs: DocumentNode;
  /** Typed by the subgraph's generated `Resolvers` (src/generated/graphql.ts, `npm run codegen`). */
  resolvers: Record<string, unknown>;
  entities: MixedList<EntitySchema<any>>;
  migrations: Function[];
  /** The subgraph's own error codes (its `src/errors.ts`); its answers pass them and the kit's generic codes, and mask any other. */
  errorCodes?: ErrorCodeRegistry;
  /** Adds this subgraph's loaders and services to the base context, once per request. */
  createContext(base: SubgraphContext, runtime: SubgraphRuntime): C;
  /** Identity answers care-access questions locally; the others ask identity. */
  careAccess?(runtime: Omit<SubgraphRuntime, 'verifier'>): CareAccessCheck;
  /** Identity answers which care teams the viewer is in locally; the others ask identity. */
  careTeams?(runtime: Omit<SubgraphRuntime, 'verifier'>): CareTeamsCheck;
  /** Pharmacy answers which patients have a pending request locally; the others ask pharmacy (`PHARMACY_URL`). */
  pharmacyAccess?(runtime: Omit<SubgraphRuntime, 'verifier'>): PharmacyAccessCheck;
  /** Identity answers proxy grants locally; the others ask identity. */
  proxyAccess?(runtime: Omit<SubgraphRuntime, 'verifier'>): ProxyAccessCheck;
  /** Identity verifies with its own keys; the others fetch identity's JWKS. */
  verifier?(runtime: Omit<SubgraphRuntime, 'verifier'>): Promise<TokenVerifier>;
  routes?(runtime: SubgraphRuntime): Record<string, RouteHandler>;
  /** Identity checks sessions where they live; the others use Redis or ask identity. */
  sessions?(runtime: SubgraphRuntime): SessionGuard;
  /**
   * Work of the subgraph that runs beside its requests (e.g. pharmacy's outbox
   * worker): started once the server listens; on close, stopped once the
   * requests in flight have finished, before the database closes.
   */
  background?(runtime: SubgraphRuntime): BackgroundTask;
}

export interface BackgroundTask {
  stop(): Promise<void>;
}

const background = new AsyncLocalStorage<true>();

/**
 * Runs `work` (and everything it starts: awaits, timers) as a module's
 * background work, whose SQL statements are left out of the database's
 * statement counter, which counts what requests cost.
 */
export function asBackground<T>(work: () => T): T {
  return background.run(true, work);
}

export interface StartOptions {
  config: PortalConfig;
  port?: number;
  host?: string;
  /** Database name override: tests give each run its own SQLite file or PostgreSQL schema. */
  databaseName?: string;
  /** Test seams: verify tokens against these keys / answer care access without identity. */
  verifier?: TokenVerifier;
  careAccess?: CareAccessCheck;
  careTeams?: CareTeamsCheck;
  pharmacyAccess?: PharmacyAccessCheck;
  proxyAccess?: ProxyAccessCheck;
  /** Test seam: how sessions are checked; null checks none. */
  sessions?: SessionGuard | null;
}

export interface RunningSubgraph extends RunningServer {
  name: string;
  graphqlUrl: string;
  database: PortalDataSource;
  runtime: SubgraphRuntime;
}

/**
 * Writes each request's audit rows before its answer leaves. When they cannot
 * be written, what was read is not given out unaudited: the answer becomes one
 * error, SERVICE_UNAVAILABLE (503) when the database is down or too slow,
 * INTERNAL_SERVER_ERROR (500) otherwise, with nothing of the failure in it.
 */
const flushAudit: ApolloServerPlugin<SubgraphContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ contextValue, response }) {
        try {
          await contextValue.audit.flush();
        } catch (e) {
          const unavailable = isDatabaseUnavailable(e);
          if (process.env.PORTAL_LOG_ERRORS !== '0') logger.error(`[audit] rows not written (${(e as Error)?.name ?? 'Error'}): the answer is withheld`);
          response.http.status = unavailable ? 503 : 500;
          response.body = {
            kind: 'single',
            singleResult: {
              errors: [
                unavailable
                  ? { message: UNAVAILABLE_MESSAGE, extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } }
                  : { message: INTERNAL_MESSAGE, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } },
              ],
            },
          };
        }
      },
    };
  },
};

/**
 * The subgraph's Apollo Server. A subgraph bounds documents itself, as the
 * gateway does: it can be called directly, so it trusts no caller to have.
 */
export function buildSubgraphServer<C extends SubgraphContext>(module: SubgraphModule<C>, production: boolean, edge: EdgeSettings = DEFAULT_EDGE_SETTINGS): ApolloServer<C> {
  const schema = buildSubgraphSchema({ typeDefs: module.typeDefs, resolvers: module.resolvers as SchemaModuleResolvers });
  // The generic codes and this subgraph's own pass to the gateway; any other is masked.
  const passes = passesCodes(module.errorCodes ? [module.errorCodes] : []);
  return new ApolloServer<C>({
    schema: guardFederationFields(schema, edge.maxEntities, edge.document),
    introspection: !production,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    // The process that owns the servers stops them on SIGINT/SIGTERM, in order.
    stopOnTerminationSignals: false,
    validationRules: [documentLimits(edge.document)],
    parseOptions: { maxTokens: edge.document.maxTokens },
    // Production names no field a caller did not: graphql-js's suggestions would map the schema.
    formatError: (formatted, error) => (production ? withoutSuggestions(maskError(formatted, error, passes)) : maskError(formatted, error, passes)),
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      // Nothing here is cacheable (every answer goes out `no-store`): without cache hints to gather,
      // Apollo wraps no resolver of the schema (its cache-control plugin wrapped every field).
      ApolloServerPluginCacheControlDisabled(),
      flushAudit as ApolloServerPlugin<C>,
      observeOperations as ApolloServerPlugin<C>,
    ],
  });
}

/** Opens the subgraph's database, runs migrations and starts its HTTP server. */
export async function startSubgraph<C extends SubgraphContext>(module: SubgraphModule<C>, options: StartOptions): Promise<RunningSubgraph> {
  const { config } = options;
  const tracing = joinTracing(`portal-${module.name}`);
  const database = await openDatabase({
    name: module.name,
    schema: options.databaseName,
    entities: [AuditEventEntity, ...(module.entities as EntitySchema<any>[])],
    migrations: [...AUDIT_MIGRATIONS, ...module.migrations],
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    pool: config.databasePool,
  });
  const limits = new RateLimits({ settings: config.rateLimits, redisUrl: config.redisUrl, keyPrefix: config.redisKeyPrefix });
  const trusted = new TrustedProxies(config.trustedProxies);
  const clientAddress = (req: IncomingMessage) => clientAddressOf(req, trusted);
  const partial = { config, database, limits, clientAddress };
  // Always let the module initialise its own verifier (identity loads its signing key there).
  const own = module.verifier ? await module.verifier(partial) : undefined;
  const timeoutMs = config.identityTimeoutMs ?? DEFAULT_IDENTITY_TIMEOUT_MS;
  const verifier = options.verifier ?? own ?? new TokenVerifier({ jwksUrl: `${config.identityUrl}/.well-known/jwks.json`, timeoutMs, cache: config.tokenCache });
  const runtime: SubgraphRuntime = { ...partial, verifier };
  const careAccess = options.careAccess ?? (module.careAccess ? module.careAccess(partial) : remoteCareAccess(config.identityUrl, timeoutMs));
  const careTeams = options.careTeams ?? (module.careTeams ? module.careTeams(partial) : remoteCareTeams(config.identityUrl, timeoutMs));
  // Read at each call: the stack starts identity before pharmacy and tells it pharmacy's address afterwards.
  const pharmacyAccess =
    options.pharmacyAccess ?? (module.pharmacyAccess ? module.pharmacyAccess(partial) : remotePharmacyAccess(() => config.pharmacyUrl, timeoutMs));
  const proxyAccess = options.proxyAccess ?? (module.proxyAccess ? module.proxyAccess(partial) : remoteProxyAccess(config.identityUrl, timeoutMs));
  // A verifier passed by a test trusts that test's own key, whose tokens name sessions no identity
  // opened: such a server checks no sessions unless the test gives it a guard too.
  const sessions =
    options.sessions !== undefined ? options.sessions : options.verifier ? null : module.sessions ? module.sessions(runtime) : defaultSessionGuard(config);
  const edge = edgeOf(config);
  const requestIdSecret = loadRequestIdSecret(config);
  const apollo = buildSubgraphServer(module, config.production, edge);
  await apollo.start();

  const context = async (req: IncomingMessage, requestId: string): Promise<C> => {
    let viewer: Viewer | null;
    try {
      viewer = await verifier.fromAuthorizationHeader(req.headers.authorization);
      // Service tokens are short-lived and open no session; every other token is refused once its session ended.
      if (viewer && sessions && viewer.role !== 'SERVICE') viewer = { ...viewer, sessionExpiresAt: await sessions.check(viewer) };
    } catch (e) {
      throw authenticationFailure(e);
    }
    const audit = new AuditTrail(database.dataSource, module.name, requestId, viewer);
    const access = new Access(viewer, audit, careAccess, careTeams, pharmacyAccess, proxyAccess);
    const clientCertificate = forwardedClientCertificate(req, requestIdSecret);
    return module.createContext({ requestId, viewer, access, audit, db: database.dataSource, clientAddress: clientAddress(req), limits, clientCertificate }, runtime);
  };

  const server = await listen<C>(
    {
      apollo,
      context,
      // Every subgraph answers the patient's access log (its audit rows of the signed-in patient) the same way.
      routes: { 'POST /internal/audit-events': auditEventsRoute(database.dataSource, verifier, sessions), ...module.routes?.(runtime) },
      maxBodyBytes: edge.maxBodyBytes,
      sizes: edge,
      production: config.production,
      requestId: subgraphRequestId(requestIdSecret),
      shutdownGraceMs: config.shutdownGraceMs,
      ready: () => databaseAnswers(database, READY_TIMEOUT_MS),
      service: module.name,
      trustTraceContext: true,
      metricsToken: config.metrics?.token,
    },
    options.port ?? 0,
    options.host,
  );
  traceStatements(database.dataSource, database.kind === 'postgres' ? 'postgresql' : 'sqlite', module.name, module.name);
  const unregisterPool = database.kind === 'postgres' ? registerDatabasePool(module.name, database.dataSource.driver, (config.databasePool ?? DEFAULT_DATABASE_POOL).max) : () => undefined;
  const metricsServer = await joinMetricsServer(config.metrics);
  const countRequestStatement = database.counter.logQuery.bind(database.counter);
  database.counter.logQuery = () => {
    if (!background.getStore()) countRequestStatement();
  };
  const task = module.background ? asBackground(() => module.background!(runtime)) : undefined;
  let closing: Promise<void> | undefined;
  return {
    ...server,
    name: module.name,
    graphqlUrl: `${server.url}/graphql`,
    database,
    runtime,
    // Requests in flight finish first (each flushes its own audit as it answers), then the
    // background work stops, and the database closes last, once nothing can write to it.
    close: () =>
      (closing ??= (async () => {
        await server.close();
        await task?.stop();
        await apollo.stop();
        await sessions?.close();
        await limits.close();
        unregisterPool();
        if (database.dataSource.isInitialized) await database.dataSource.destroy();
        await metricsServer?.leave();
        await tracing.leave();
      })()),
  };
}

/** A readiness probe waits this long for the database's answer: a probe must answer before its own caller gives up. */
const READY_TIMEOUT_MS = 2_000;

/** Whether the database answers a trivial query within `timeoutMs`. */
async function databaseAnswers(database: PortalDataSource, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const answered = asBackground(() => database.dataSource.query('SELECT 1')).then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
}
