/**
 * Registers another service that calls subgraphs directly, and prints its
 * secret once (only its SHA-256 hash is stored):
 *   npx tsx scripts/create-service-client.ts <client-id> <scope...>
 * e.g. `reminder-service scheduling:read`. Uses the settings of the running
 * graph (DATABASE_URL or DATA_DIR, DATABASE_SCHEMA) to reach identity's database.
 * Production runs the built `node server/dist/bin/create-service-client.js`.
 */
process.env.PORTAL_QUIET = '1';
import { runCreateServiceClient } from '@portal/server';

void runCreateServiceClient(process.argv.slice(2));
