/**
 * `npm start`: the five subgraphs and the gateway on one machine. In
 * development the demo cast is seeded on first start; Ctrl-C stops everything.
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
// One process runs every service: its traces' resource is the stack's (each span still names its service's tracer).
process.env.OTEL_SERVICE_NAME ||= 'portal-stack';
import { readGatewayConfig } from '@portal/gateway';
import { DEFAULT_SHUTDOWN_GRACE_MS, logger } from '@portal/kit';
import { stopOnSignals } from './signals';
import { startStack } from './stack';

async function main() {
  const gatewayConfig = readGatewayConfig();
  const { portal } = gatewayConfig;
  const stack = await startStack({
    config: portal,
    port: gatewayConfig.port,
    host: gatewayConfig.host,
    seedDemo: !portal.production,
    subgraphTimeoutMs: gatewayConfig.subgraphTimeoutMs,
  });
  for (const s of Object.values(stack.subgraphs)) logger.info(`  ${s.name.padEnd(17)} ${s.graphqlUrl}`);
  const shown = stack.gatewayUrl.replace('127.0.0.1', 'localhost');
  logger.info(`\nPatient portal graph ready at ${shown}/graphql`);
  if (!portal.production) logger.info(`Open ${shown}/graphql in a browser for Apollo Sandbox. Sign in as jane.doe / Demo-Password-1.`);
  logger.info(`Data: ${portal.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `SQLite files in ${portal.dataDir}`}. Ctrl-C stops.`);

  // The gateway drains, then the subgraphs together, then identity: up to three graces in all.
  stopOnSignals('portal', () => stack.close(), 3 * (portal.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS));
}

main().catch((e: Error) => {
  logger.error(`Could not start: ${e.message}`);
  process.exit(1);
});
