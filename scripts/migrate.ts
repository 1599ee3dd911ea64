/**
 * Runs pending migrations and exits, from the TypeScript sources:
 *   npx tsx scripts/migrate.ts [subgraph...]
 * Production runs the built `node server/dist/bin/migrate.js`.
 */
import { runMigrations } from '@portal/server';

void runMigrations(process.argv.slice(2));
