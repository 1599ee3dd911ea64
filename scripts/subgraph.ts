/**
 * Runs one subgraph on its own, for deployments that give each subgraph its
 * own process (or several instances on one PostgreSQL database):
 *   PORT=4012 DATABASE_URL=postgres://... IDENTITY_URL=http://... npx tsx scripts/subgraph.ts scheduling
 * DATABASE_SCHEMA names the subgraph's PostgreSQL schema (or SQLite file)
 * when it is not the subgraph's own name (the fault tests give each run one).
 * Pharmacy tells patients of decisions when MESSAGING_URL, PHARMACY_CLIENT_ID
 * and PHARMACY_CLIENT_SECRET are set (see README, "Prescriptions"); identity
 * tells holders of credential changes when MESSAGING_URL is set.
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
import { DEFAULT_SHUTDOWN_GRACE_MS, logger, readConfig, startSubgraph } from '@portal/kit';
import { SUBGRAPHS, type SubgraphName } from '@portal/gateway';
import { createIdentityModule, readNoticeSettings } from '@portal/identity';
import { createPharmacyModule, readNotifierOptions } from '@portal/pharmacy';
import { stopOnSignals } from './signals';
import { MODULES } from './stack';

async function main() {
  const name = process.argv[2] as SubgraphName;
  const def = SUBGRAPHS.find((s) => s.name === name);
  if (!def) throw new Error(`usage: subgraph.ts ${SUBGRAPHS.map((s) => s.name).join('|')}`);
  const config = readConfig();
  const messagingUrl = process.env.MESSAGING_URL || undefined;
  const module =
    name === 'pharmacy'
      ? createPharmacyModule({ notifier: readNotifierOptions(process.env) })
      : name === 'identity'
        ? createIdentityModule({ notices: messagingUrl ? { messagingUrl: () => messagingUrl, ...readNoticeSettings(process.env) } : undefined })
        : MODULES[name].create();
  if (name === 'pharmacy' && !process.env.MESSAGING_URL) logger.warn('MESSAGING_URL unset: renewal decisions wait in the outbox, patients are not told yet.');
  const running = await startSubgraph(module, { config, port: Number(process.env.PORT ?? def.port), host: process.env.HOST, databaseName: process.env.DATABASE_SCHEMA || undefined });
  logger.info(`${name} subgraph at ${running.graphqlUrl}`);
  stopOnSignals(name, () => running.close(), config.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
}

main().catch((e: Error) => {
  logger.error(`Could not start: ${e.message}`);
  process.exit(1);
});
