/**
 * Starts the five subgraphs and the gateway in one process: `npm start` in
 * development and the end-to-end tests use the same code. Identity starts
 * first because the others fetch its JWKS and ask it about care access.
 */
import type { DataSource } from 'typeorm';
import { logger, parseSettings, startSubgraph, type PortalConfig, type RunningSubgraph, type SubgraphModule } from '@portal/kit';
import { DEMO } from '@portal/demo';
import { createIdentityModule, ensureServiceClient, readNoticeSettings, seedDemo as seedIdentity } from '@portal/identity';
import { createSchedulingModule, seedDemo as seedScheduling } from '@portal/scheduling';
import { createMessagingModule, seedDemo as seedMessaging } from '@portal/messaging';
import { createPharmacyModule, parsePharmacySettings, readNotifierTiming, seedDemo as seedPharmacy, type NotifierOptions } from '@portal/pharmacy';
import { createClinicalRecordsModule, seedDemo as seedClinicalRecords } from '@portal/clinical-records';
import { fhirRoutes, readSubgraphLimits, startGateway, SUBGRAPHS, type GatewayConfig, type SubgraphName } from '@portal/gateway';
import { webAppRoutes } from './webApp';

type AnyModule = SubgraphModule<any>;

/** `dataDir` lets identity's seed write the development PKI (dev CA and the cast's smart cards) beside the data. */
export const MODULES: Record<SubgraphName, { create: () => AnyModule; seed: (db: DataSource, now?: Date, dataDir?: string) => Promise<void> }> = {
  identity: { create: createIdentityModule, seed: seedIdentity },
  scheduling: { create: createSchedulingModule, seed: seedScheduling },
  messaging: { create: createMessagingModule, seed: seedMessaging },
  pharmacy: { create: createPharmacyModule, seed: seedPharmacy },
  'clinical-records': { create: createClinicalRecordsModule, seed: seedClinicalRecords },
};

export interface StackOptions {
  config: PortalConfig;
  /** Gateway port; 0 picks a free one. */
  port: number;
  /** Subgraph ports; 0 for each when `ephemeralPorts` is set. */
  ephemeralPorts?: boolean;
  host?: string;
  seedDemo: boolean;
  /** Prefix for SQLite file names / PostgreSQL schemas (tests use a unique one). */
  databasePrefix?: string;
  /** Overrides SUBGRAPH_TIMEOUT_MS. */
  subgraphTimeoutMs?: number;
  /** Overrides SUBGRAPH_FETCH_MERGING. */
  mergeEntityFetches?: boolean;
  /** The gateway's HTTPS (TLS_CERT_FILE, TLS_KEY_FILE) and a trusted proxy's client-certificate header (CLIENT_CERT_HEADER). */
  clientCertificates?: Pick<GatewayConfig, 'tls' | 'clientCertHeader'>;
  /** The built patient web app served at /app/ (web/dist unless told otherwise; the browser tests build their own). */
  webAppDir?: string;
}

export interface Stack {
  gatewayUrl: string;
  graphqlUrl: string;
  subgraphs: Record<SubgraphName, RunningSubgraph>;
  close(): Promise<void>;
}

/** The five subgraphs of a stack, started and wired to each other (and seeded if asked), without the gateway. */
export interface StackSubgraphs {
  subgraphs: Record<SubgraphName, RunningSubgraph>;
  /** The settings the gateway runs with: the subgraphs' with identity's address. */
  config: PortalConfig;
  /** The subgraphs together, identity last: the others ask it about sessions and care access while they finish their requests. */
  close(): Promise<void>;
}

export async function startSubgraphs(options: Pick<StackOptions, 'config' | 'ephemeralPorts' | 'host' | 'seedDemo' | 'databasePrefix'>): Promise<StackSubgraphs> {
  const started: RunningSubgraph[] = [];
  try {
    const start = async (name: SubgraphName, config: PortalConfig, module: AnyModule = MODULES[name].create()) => {
      const def = SUBGRAPHS.find((s) => s.name === name)!;
      const running = await startSubgraph(module, {
        config,
        port: options.ephemeralPorts ? 0 : def.port,
        host: options.host,
        databaseName: options.databasePrefix ? `${options.databasePrefix}_${name.replace(/-/g, '_')}` : undefined,
      });
      started.push(running);
      return running;
    };
    // Identity tells holders of credential changes through messaging, which starts after it.
    let messagingUrl: string | undefined;
    const identity = await start('identity', options.config, createIdentityModule({ notices: { messagingUrl: () => messagingUrl, ...readNoticeSettings(process.env) } }));
    if (options.config.production) await refuseDemoCast(identity.database.dataSource);
    const config = { ...options.config, identityUrl: identity.url };
    // Messaging first: pharmacy's outbox worker posts to it.
    const messaging = await start('messaging', config);
    messagingUrl = messaging.url;
    const notifier = await pharmacyNotifier(options.config, identity, messaging.url);
    const rest = [
      messaging,
      ...(await Promise.all([
        start('scheduling', config),
        start('pharmacy', config, createPharmacyModule({ notifier })),
        start('clinical-records', config),
      ])),
    ];
    const subgraphs = Object.fromEntries([identity, ...rest].map((s) => [s.name, s])) as Record<SubgraphName, RunningSubgraph>;
    // Identity asks pharmacy whether a pharmacist may see a patient (a pending request); it started first, so it learns the address now.
    identity.runtime.config.pharmacyUrl = subgraphs.pharmacy.url;
    // Identity gathers a patient's access log from every subgraph's audit trail.
    identity.runtime.config.auditSourceUrls = { scheduling: subgraphs.scheduling.url, messaging: subgraphs.messaging.url, 'clinical-records': subgraphs['clinical-records'].url };
    if (options.seedDemo) {
      if (options.config.production) throw new Error('NODE_ENV=production refuses to seed the demo cast.');
      for (const s of Object.values(subgraphs)) await MODULES[s.name as SubgraphName].seed(s.database.dataSource, undefined, options.config.dataDir);
    }
    return {
      subgraphs,
      config,
      close: async () => {
        const others = started.filter((s) => s !== identity);
        await Promise.allSettled(others.map((s) => s.close()));
        await identity.close();
      },
    };
  } catch (e) {
    for (const s of started.reverse()) await s.close().catch(() => undefined);
    throw e;
  }
}

/** The gateway's settings in a stack, for subgraphs at `subgraphUrls`. */
export function stackGatewayConfig(options: StackOptions, config: PortalConfig, subgraphUrls: Record<SubgraphName, string>): GatewayConfig {
  return {
    portal: config,
    port: options.port,
    host: options.host ?? '127.0.0.1',
    subgraphUrls,
    // SUBGRAPH_TIMEOUT_MS and the breaker settings, validated; a test may shorten the timeout.
    ...readSubgraphLimits(process.env),
    ...(options.subgraphTimeoutMs ? { subgraphTimeoutMs: options.subgraphTimeoutMs } : {}),
    ...(options.mergeEntityFetches !== undefined ? { mergeEntityFetches: options.mergeEntityFetches } : {}),
    ...options.clientCertificates,
  };
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const { subgraphs, config, close } = await startSubgraphs(options);
  try {
    const subgraphUrls = Object.fromEntries(Object.values(subgraphs).map((s) => [s.name, s.url])) as Record<SubgraphName, string>;
    // GET /fhir/Patient/$everything: the record download, read through the gateway's own graph;
    // GET /app/: the patient web app, on the same origin as the graph it calls.
    const app = webAppRoutes(options.webAppDir);
    const gateway = await startGateway({ config: stackGatewayConfig(options, config, subgraphUrls), routes: (deps) => ({ ...fhirRoutes(deps), ...app }) });
    return {
      gatewayUrl: gateway.url,
      graphqlUrl: `${gateway.url}/graphql`,
      subgraphs,
      // The gateway first (no new work reaches the subgraphs), then the subgraphs.
      close: async () => {
        await gateway.close();
        await close();
      },
    };
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
}

/**
 * Pharmacy tells patients of renewal decisions through messaging's
 * postCareTeamMessage, as service client `pharmacy` (scope messaging:write).
 * Development: the client is created, or its secret rotated, on every start,
 * and the secret goes straight to pharmacy, never to a file. Production: the
 * credentials come from PHARMACY_CLIENT_ID and PHARMACY_CLIENT_SECRET; without
 * them decisions still store their messages, delivered once a start has them.
 * PHARMACY_OUTBOX_POLL_MS, PHARMACY_OUTBOX_RETRY_BASE_MS and _MAX_MS tune the worker,
 * OUTBOX_MAX_REFUSALS and OUTBOX_RETENTION_HOURS both outboxes.
 */
export async function pharmacyNotifier(config: PortalConfig, identity: RunningSubgraph, messagingUrl: string): Promise<NotifierOptions | undefined> {
  const timing = readNotifierTiming(process.env);
  if (config.production) {
    const { PORTAL_QUIET: quiet } = parseSettings(process.env, ['PORTAL_QUIET']);
    const { PHARMACY_CLIENT_ID: clientId, PHARMACY_CLIENT_SECRET: clientSecret } = parsePharmacySettings(process.env, ['PHARMACY_CLIENT_ID', 'PHARMACY_CLIENT_SECRET']);
    if (!clientId || !clientSecret) {
      if (!quiet) logger.warn('PHARMACY_CLIENT_ID / PHARMACY_CLIENT_SECRET unset: renewal decisions wait in the outbox, patients are not told yet.');
      return undefined;
    }
    return { messagingUrl, identityUrl: identity.url, clientId, clientSecret, ...timing };
  }
  const clientSecret = await ensureServiceClient(identity.database.dataSource, 'pharmacy', ['messaging:write']);
  return { messagingUrl, identityUrl: identity.url, clientId: 'pharmacy', clientSecret, ...timing };
}

/** A production database must never hold the demo cast, whose passwords are public. */
export async function refuseDemoCast(db: DataSource): Promise<void> {
  // Jane's children too: a database holding only them (their seed step ran, the adults' rows were removed) is still the demo's.
  const rows = await db.query(`SELECT id FROM person WHERE id IN ('${DEMO.jane}', '${DEMO.john}', '${DEMO.emma}', '${DEMO.liam}')`);
  if (rows.length) throw new Error('NODE_ENV=production refuses to start: the identity database holds the demo cast.');
}
