/**
 * Runs the gateway on its own, in front of subgraphs that run elsewhere
 * (`scripts/subgraph.ts`, one process each), from the TypeScript sources:
 *   PORT=4000 IDENTITY_URL=http://127.0.0.1:4001 ... npx tsx scripts/gateway.ts
 * Each subgraph's address comes from `<SUBGRAPH>_URL` (default 127.0.0.1:400N).
 * The wiring is `@portal/server` (server/src/services.ts); production runs the
 * built `node server/dist/bin/gateway.js`.
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
import { runGateway } from '@portal/server';

void runGateway();
