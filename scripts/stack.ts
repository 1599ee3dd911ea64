/**
 * Starts the five subgraphs and the gateway in one process: `npm start` in
 * development and the end-to-end tests use the same code. Identity starts
 * first because the others fetch its JWKS and ask it about care access.
 */
import type { DataSource } from 'typeorm';
import { DEMO, startSubgraph, type PortalConfig, type RunningSubgraph, type SubgraphModule } from '@portal/kit';
import { createIdentityModule, seedDemo as seedIdentity } from '@portal/identity';
import { createSchedulingModule, seedDemo as seedScheduling } from '@portal/scheduling';
import { createMessagingModule, seedDemo as seedMessaging } from '@portal/messaging';
import { createPharmacyModule, seedDemo as seedPharmacy } from '@portal/pharmacy';
import { createClinicalRecordsModule, seedDemo as seedClinicalRecords } from '@portal/clinical-records';
import { fhirRoutes, startGateway, SUBGRAPHS, type GatewayConfig, type SubgraphName } from '@portal/gateway';

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
  subgraphTimeoutMs?: number;
}

export interface Stack {
  gatewayUrl: string;
  graphqlUrl: string;
  subgraphs: Record<SubgraphName, RunningSubgraph>;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const started: RunningSubgraph[] = [];
  const closeAll = async () => {
    for (const s of started.reverse()) await s.close().catch(() => undefined);
  };
  try {
    const start = async (name: SubgraphName, config: PortalConfig) => {
      const def = SUBGRAPHS.find((s) => s.name === name)!;
      const running = await startSubgraph(MODULES[name].create(), {
        config,
        port: options.ephemeralPorts ? 0 : def.port,
        host: options.host,
        databaseName: options.databasePrefix ? `${options.databasePrefix}_${name.replace(/-/g, '_')}` : undefined,
      });
      started.push(running);
      return running;
    };
    const identity = await start('identity', options.config);
    if (options.config.production) await refuseDemoCast(identity.database.dataSource);
    const config = { ...options.config, identityUrl: identity.url };
    const rest = await Promise.all((['scheduling', 'messaging', 'pharmacy', 'clinical-records'] as const).map((n) => start(n, config)));
    const subgraphs = Object.fromEntries([identity, ...rest].map((s) => [s.name, s])) as Record<SubgraphName, RunningSubgraph>;
    if (options.seedDemo) {
      if (options.config.production) throw new Error('NODE_ENV=production refuses to seed the demo cast.');
      for (const s of Object.values(subgraphs)) await MODULES[s.name as SubgraphName].seed(s.database.dataSource, undefined, options.config.dataDir);
    }
    const gatewayConfig: GatewayConfig = {
      portal: config,
      port: options.port,
      host: options.host ?? '127.0.0.1',
      subgraphUrls: Object.fromEntries(Object.values(subgraphs).map((s) => [s.name, s.url])) as Record<SubgraphName, string>,
      subgraphTimeoutMs: options.subgraphTimeoutMs ?? 15_000,
    };
    // GET /fhir/Patient/$everything: the record download, read through the gateway's own graph.
    const gateway = await startGateway({ config: gatewayConfig, routes: fhirRoutes });
    return {
      gatewayUrl: gateway.url,
      graphqlUrl: `${gateway.url}/graphql`,
      subgraphs,
      close: async () => {
        await gateway.close();
        await closeAll();
      },
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/** A production database must never hold the demo cast, whose passwords are public. */
async function refuseDemoCast(db: DataSource): Promise<void> {
  const rows = await db.query(`SELECT id FROM person WHERE id IN ('${DEMO.jane}', '${DEMO.john}')`);
  if (rows.length) throw new Error('NODE_ENV=production refuses to start: the identity database holds the demo cast.');
}
