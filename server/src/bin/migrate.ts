/** Migrations as a one-shot command: `node server/dist/bin/migrate.js [subgraph...]` (all five when none is named). */
import { runMigrations } from '../services';

void runMigrations(process.argv.slice(2));
