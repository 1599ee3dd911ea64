/**
 * A synthetic population for development and benchmarks, on PostgreSQL:
 *   npm run seed:synthetic -- --patients 100000 [--seed 1] [--database-url postgres://...] [--schema-prefix bench]
 *     [--batch-size 2000] [--jobs 2] [--keep-indexes]
 * Deterministic from the seed; run it again after an interruption to finish the
 * load. Every synthetic patient signs in as `syn.<n>` with the password
 * SYNTHETIC_PASSWORD (see README, "At scale"). Refused when NODE_ENV=production.
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
process.env.PORTAL_QUIET = '1';
import { loadPopulation, populationBytes } from './synthetic/load';
import { progressPrinter } from './synthetic/progress';
import { SYNTHETIC_PASSWORD } from './synthetic/population';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  return v;
}

const whole = (name: string, fallback?: number) => {
  const v = option(name);
  if (v === undefined) {
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  }
  if (!/^\d+$/.test(v.replace(/_/g, ''))) throw new Error(`--${name} must be a whole number`);
  return Number(v.replace(/_/g, ''));
};

async function main() {
  const databaseUrl = option('database-url') ?? process.env.DATABASE_URL;
  if (!databaseUrl || !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error('seed:synthetic needs PostgreSQL: pass --database-url postgres://... or set DATABASE_URL (SQLite is not supported)');
  }
  const result = await loadPopulation({
    databaseUrl,
    patients: whole('patients'),
    seed: whole('seed', 1),
    schemaPrefix: option('schema-prefix'),
    batchSize: whole('batch-size', 2000),
    jobs: whole('jobs', 2),
    keepIndexes: process.argv.includes('--keep-indexes'),
    production: process.env.NODE_ENV === 'production',
    onProgress: progressPrinter(),
  });
  const bytes = await populationBytes(databaseUrl, option('schema-prefix'));
  const largest = result.plan.teams[0];
  console.log(
    result.rows === 0
      ? `Population already complete (${result.plan.patients} patients, seed ${result.plan.seed}).`
      : `Loaded ${result.rows} rows for ${result.plan.patients} patients (seed ${result.plan.seed}) in ${result.seconds.toFixed(1)} s` +
          (result.resumedBatches ? `, resuming ${result.resumedBatches} batches done before` : '') + '.',
  );
  console.log(`Schemas: ${Object.values(result.schemas).join(', ')}; ${(bytes / 2 ** 20).toFixed(0)} MiB.`);
  console.log(`${result.plan.teams.length} care teams (largest ct-syn-0, ${largest.size} patients, practitioners pr-syn-0-0..${largest.practitioners - 1}), ${result.plan.pharmacists} pharmacists (pr-syn-rx-0..).`);
  console.log(`Sign in as syn.0 ... syn.${result.plan.patients - 1} with password ${SYNTHETIC_PASSWORD}; syn.0 has the largest record.`);
}

main().catch((e: Error) => {
  console.error(`seed:synthetic: ${e.message}`);
  process.exit(1);
});
