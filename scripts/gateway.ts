/**
 * Runs the gateway on its own, in front of subgraphs that run elsewhere
 * (`scripts/subgraph.ts`, one process each):
 *   PORT=4000 IDENTITY_URL=http://127.0.0.1:4001 ... npx tsx scripts/gateway.ts
 * Each subgraph's address comes from `<SUBGRAPH>_URL` (default 127.0.0.1:400N).
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
import { fhirRoutes, readGatewayConfig, startGateway } from '@portal/gateway';

async function main() {
  const config = readGatewayConfig();
  const running = await startGateway({ config, routes: fhirRoutes });
  console.log(`gateway at ${running.url}/graphql`);
  const stop = async () => {
    await running.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((e: Error) => {
  console.error(`Could not start: ${e.message}`);
  process.exit(1);
});
