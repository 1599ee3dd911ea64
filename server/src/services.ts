/**
 * The start-up of each service as its own process, as production runs them
 * (`node server/dist/bin/<gateway|subgraph|migrate>.js`, see README "Deploy"),
 * and of all of them in one process (`npm start`). Every setting comes from
 * the environment (README, "Settings").
 */
import os from 'node:os';
import {
  AuditEventEntity,
  AUDIT_MIGRATIONS,
  DEFAULT_SHUTDOWN_GRACE_MS,
  logger,
  openDatabase,
  parseSettings,
  readConfig,
  startSubgraph,
  type RunningSubgraph,
  type SubgraphModule,
} from '@portal/kit';
import { webAppRoutes } from './webApp';
import { fhirRoutes, readGatewayConfig, startGateway, SUBGRAPHS, type SubgraphName } from '@portal/gateway';
import { createIdentityModule, createServiceClient, readNoticeSettings, SERVICE_SCOPES } from '@portal/identity';
import { createPharmacyModule, readNotifierOptions } from '@portal/pharmacy';
import { stopOnSignals } from './signals';
import { MODULES, refuseDemoCast, startStack } from './stack';
import { startThreadedStack } from './stackThread';

export const SUBGRAPH_NAMES = SUBGRAPHS.map((s) => s.name) as SubgraphName[];

const envPrefix = (name: SubgraphName) => name.toUpperCase().replace(/-/g, '_');

/**
 * The port a subgraph run on its own listens on: `<NAME>_PORT` (e.g. `IDENTITY_PORT`), else
 * `PORT`, else its default (4001 to 4005). `0` picks a free one.
 */
export function subgraphPort(name: SubgraphName, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[`${envPrefix(name)}_PORT`] || env.PORT;
  if (raw === undefined || raw === '') return SUBGRAPHS.find((s) => s.name === name)!.port;
  const port = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || port > 65535) throw new Error(`${env[`${envPrefix(name)}_PORT`] ? `${envPrefix(name)}_PORT` : 'PORT'} must be a port number (0 to 65535), not "${raw}".`);
  return port;
}

export function isSubgraphName(name: string | undefined): name is SubgraphName {
  return SUBGRAPH_NAMES.includes(name as SubgraphName);
}

/** The module of a subgraph run on its own, with its outbox and notices wired from the environment. */
export function subgraphModule(name: SubgraphName, env: NodeJS.ProcessEnv = process.env): SubgraphModule<any> {
  const messagingUrl = env.MESSAGING_URL || undefined;
  if (name === 'pharmacy') {
    if (!messagingUrl && env.PORTAL_QUIET !== '1') logger.warn('MESSAGING_URL unset: renewal decisions wait in the outbox, patients are not told yet.');
    return createPharmacyModule({ notifier: readNotifierOptions(env) });
  }
  if (name === 'identity') return createIdentityModule({ notices: messagingUrl ? { messagingUrl: () => messagingUrl, ...readNoticeSettings(env) } : undefined });
  return MODULES[name].create();
}

/** What a `run*` front does with a start that fails: one line, no stack trace, exit 1. */
function failed(e: unknown): never {
  logger.error(`Could not start: ${(e as Error)?.message ?? String(e)}`);
  process.exit(1);
}

/** The gateway alone, in front of subgraphs at `<SUBGRAPH>_URL`. */
export async function runGateway(): Promise<void> {
  try {
    const config = readGatewayConfig();
    // The patient web app (web/dist, when the image or checkout has it built) beside the graph, at /app/.
    const app = webAppRoutes();
    const running = await startGateway({ config, routes: (deps) => ({ ...fhirRoutes(deps), ...app }) });
    logger.info(`gateway at ${running.url}/graphql`);
    stopOnSignals('gateway', () => running.close(), config.portal.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
  } catch (e) {
    failed(e);
  }
}

/**
 * Starts one subgraph alone, with its settings from `env`. DATABASE_SCHEMA names its PostgreSQL
 * schema (or SQLite file) when it is not the subgraph's own name. Production identity refuses a
 * database that holds the demo cast, as the one-process start does.
 */
export async function startOneSubgraph(name: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<RunningSubgraph> {
  if (!isSubgraphName(name)) throw new Error(`name a subgraph: ${SUBGRAPH_NAMES.join('|')}`);
  const config = readConfig(env);
  const running = await startSubgraph(subgraphModule(name, env), {
    config,
    port: subgraphPort(name, env),
    host: env.HOST,
    databaseName: env.DATABASE_SCHEMA || undefined,
  });
  if (name === 'identity' && config.production) {
    try {
      await refuseDemoCast(running.database.dataSource);
    } catch (e) {
      await running.close().catch(() => undefined);
      throw e;
    }
  }
  return running;
}

/** One subgraph alone, as its own process: stops on SIGTERM/SIGINT. */
export async function runSubgraph(name: string | undefined): Promise<void> {
  try {
    const running = await startOneSubgraph(name);
    logger.info(`${running.name} subgraph at ${running.graphqlUrl}`);
    stopOnSignals(running.name, () => running.close(), running.runtime.config.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
  } catch (e) {
    failed(e);
  }
}

/**
 * Runs the pending migrations of the named subgraphs (all five when none is named) and exits:
 * the one-shot job of a deployment. Needs only the database settings (DATABASE_URL or DATA_DIR,
 * DATABASE_SCHEMA for one subgraph); subgraphs also migrate at start, under the same lock.
 */
export async function migrate(names: string[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const chosen = names.length ? names : SUBGRAPH_NAMES;
  for (const n of chosen) if (!isSubgraphName(n)) throw new Error(`unknown subgraph "${n}": name any of ${SUBGRAPH_NAMES.join('|')}`);
  if (env.DATABASE_SCHEMA && chosen.length !== 1) throw new Error('DATABASE_SCHEMA names one schema: name one subgraph with it.');
  // Database settings only: the signing key and the card files are the services' business.
  const config = readConfig({ ...env, NODE_ENV: 'development' });
  const done: string[] = [];
  for (const name of chosen as SubgraphName[]) {
    const module = MODULES[name].create();
    const database = await openDatabase({
      name: module.name,
      schema: env.DATABASE_SCHEMA || undefined,
      entities: [AuditEventEntity, ...(module.entities as never[])],
      migrations: [...AUDIT_MIGRATIONS, ...module.migrations],
      dataDir: config.dataDir,
      databaseUrl: config.databaseUrl,
      pool: config.databasePool,
    });
    await database.dataSource.destroy();
    done.push(name);
  }
  return done;
}

export async function runMigrations(names: string[]): Promise<void> {
  try {
    const done = await migrate(names);
    logger.info(`migrated: ${done.join(', ')}`);
    process.exit(0);
  } catch (e) {
    logger.error(`Could not migrate: ${(e as Error)?.message ?? String(e)}`);
    process.exit(1);
  }
}

/** `npm start`: the five subgraphs and the gateway in one process; in development the demo cast is seeded on first start. */
/**
 * How many threads `npm start` runs on: STACK_THREADS, or with `auto` (the
 * default) two when the machine has two cores or more and METRICS_PORT is
 * unset (each thread has its own metrics registry, so one port cannot serve
 * them all), else one.
 */
export function stackThreads(setting: 'auto' | 1 | 2, metricsPort: boolean, cores: number): 1 | 2 {
  if (setting !== 'auto') return setting;
  return cores >= 2 && !metricsPort ? 2 : 1;
}

export async function runStack(): Promise<void> {
  try {
    const gatewayConfig = readGatewayConfig();
    const { portal } = gatewayConfig;
    const options = {
      config: portal,
      port: gatewayConfig.port,
      host: gatewayConfig.host,
      seedDemo: !portal.production,
      subgraphTimeoutMs: gatewayConfig.subgraphTimeoutMs,
      clientCertificates: { tls: gatewayConfig.tls, clientCertHeader: gatewayConfig.clientCertHeader },
    };
    const threads = stackThreads(parseSettings(process.env, ['STACK_THREADS']).STACK_THREADS ?? 'auto', portal.metrics?.port !== undefined, os.availableParallelism());
    if (threads === 2) logger.info('The five subgraphs run in a worker thread beside the gateway (STACK_THREADS=1 keeps them on one).');
    const stack =
      threads === 2
        ? await startThreadedStack(options)
        : await startStack(options).then((s) => ({ ...s, subgraphUrls: Object.fromEntries(Object.values(s.subgraphs).map((r) => [r.name, r.url])) }));
    for (const [name, url] of Object.entries(stack.subgraphUrls)) logger.info(`  ${name.padEnd(17)} ${url}/graphql`);
    const shown = stack.gatewayUrl.replace('127.0.0.1', 'localhost');
    logger.info(`\nPatient portal graph ready at ${shown}/graphql`);
    logger.info(`Patient web app at ${shown}/app/`);
    if (!portal.production) logger.info(`Open ${shown}/graphql in a browser for Apollo Sandbox: run SignInWithDsLogon (jane.doe / Demo-Password-1), put the token after "Bearer ", run PortalView.`);
    logger.info(`Data: ${portal.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `SQLite files in ${portal.dataDir}`}. Ctrl-C stops.`);
    // The gateway drains, then the subgraphs together, then identity: up to three graces in all.
    stopOnSignals('portal', () => stack.close(), 3 * (portal.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS));
  } catch (e) {
    failed(e);
  }
}

/**
 * Registers a service that calls subgraphs directly (pharmacy's outbox worker is one: client
 * `pharmacy`, scope messaging:write) in identity's database, and prints its secret once (only
 * its SHA-256 hash is stored). Needs the database settings only, like the migrations.
 */
export async function runCreateServiceClient(args: string[]): Promise<void> {
  const [clientId, ...scopes] = args;
  try {
    if (!clientId || scopes.length === 0) throw new Error(`usage: create-service-client <client-id> <scope...>\nscopes: ${SERVICE_SCOPES.join(' ')}`);
    const config = readConfig({ ...process.env, NODE_ENV: 'development' });
    const identity = createIdentityModule();
    const database = await openDatabase({
      name: identity.name,
      schema: process.env.DATABASE_SCHEMA || undefined,
      entities: [AuditEventEntity, ...(identity.entities as never[])],
      migrations: [...AUDIT_MIGRATIONS, ...identity.migrations],
      dataDir: config.dataDir,
      databaseUrl: config.databaseUrl,
    });
    try {
      const secret = await createServiceClient(database.dataSource, clientId, scopes);
      const tokenUrl = `${config.identityUrl}/oauth/token`;
      console.log(`Service client ${clientId}, scopes: ${[...new Set(scopes)].sort().join(' ')}`);
      console.log(`client_secret: ${secret}`);
      console.log(`\nShown this once only. Exchange it for a 5-minute token:`);
      console.log(`  curl -s ${tokenUrl} -d grant_type=client_credentials -d client_id=${clientId} -d client_secret=${secret}`);
    } finally {
      await database.dataSource.destroy();
    }
    process.exit(0);
  } catch (e) {
    console.error((e as Error)?.message ?? String(e));
    process.exit(1);
  }
}
