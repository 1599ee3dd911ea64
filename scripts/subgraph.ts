/**
 * Runs one subgraph on its own, from the TypeScript sources, for deployments
 * that give each subgraph its own process (or several instances on one PostgreSQL database):
 *   PORT=4012 DATABASE_URL=postgres://... IDENTITY_URL=http://... npx tsx scripts/subgraph.ts scheduling
 * The port is `<NAME>_PORT`, else `PORT`, else the subgraph's default.
 * DATABASE_SCHEMA names the subgraph's PostgreSQL schema (or SQLite file)
 * when it is not the subgraph's own name (the fault tests give each run one).
 * Pharmacy tells patients of decisions when MESSAGING_URL, PHARMACY_CLIENT_ID
 * and PHARMACY_CLIENT_SECRET are set (see README, "Prescriptions"); identity
 * tells holders of credential changes when MESSAGING_URL is set.
 * The wiring is `@portal/server` (server/src/services.ts); production runs the
 * built `node server/dist/bin/subgraph.js <name>`.
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
import { runSubgraph } from '@portal/server';

void runSubgraph(process.argv[2]);
