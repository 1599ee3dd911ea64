/**
 * Runs the gateway on its own, in front of subgraphs that run elsewhere
 * (`scripts/subgraph.ts`, one process each):
 *   PORT=4000 IDENTITY_URL=http://127.0.0.1:4001 ... npx tsx scripts/gateway.ts
 * Each subgraph's address comes from `<SUBGRAPH>_URL` (default 127.0.0.1:400N).
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
import { DEFAULT_SHUTDOWN_GRACE_MS, logger } from '@portal/kit';
import { fhirRoutes, readGatewayConfig, startGateway } from '@portal/gateway';
import { stopOnSignals } from './signals';

async function main() {
  const config = readGatewayConfig();
  const running = await startGateway({ config, routes: fhirRoutes });
  logger.info(`gateway at ${running.url}/graphql`);
  stopOnSignals('gateway', () => running.close(), config.portal.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
}

main().catch((e: Error) => {
  logger.error(`Could not start: ${e.message}`);
  process.exit(1);
});
