/**
 * The scale benchmark: for each population size, a synthetic population on
 * PostgreSQL (generated, or reused when a complete one of that size is there),
 * the whole stack on it (gateway and subgraphs in this process), and p50/p99
 * of the hot operations through the gateway. Prints a markdown table.
 *   npm run bench:scale -- --patients 1000,100000[,1000000] [--requests 200] [--concurrency 4]
 *     [--database-url postgres://...] [--schema-prefix scale] [--port 5200] [--drop]
 * Populations live in schemas `<prefix>_<size>_<subgraph>`; --drop removes them afterwards.
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
process.env.PORTAL_QUIET = '1';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { loadSigningKey, readConfig } from '@portal/kit';
import { progressPrinter } from './synthetic/progress';
import { startStack } from '@portal/server';
import { dropPopulation, loadPopulation, markerSchema, populationBytes } from './synthetic/load';
import { scaleScenarios, type Scenario } from './synthetic/scenarios';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

interface Timing {
  p50: number;
  p99: number;
  /** Growth of this process's RSS over the run (FHIR download only). */
  rssGrowthMiB?: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function measure(s: Scenario, requests: number, concurrency: number, trackMemory: boolean): Promise<Timing> {
  for (let k = 0; k < Math.min(3, requests); k++) await s.run();
  const latencies: number[] = [];
  let next = 0;
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = trackMemory ? setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20) : undefined;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < requests) {
          next++;
          const t0 = performance.now();
          await s.run();
          latencies.push(performance.now() - t0);
        }
      }),
    );
  } finally {
    if (sampler) clearInterval(sampler);
  }
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), ...(trackMemory ? { rssGrowthMiB: (peak - rss0) / 2 ** 20 } : {}) };
}

async function generatorSeconds(databaseUrl: string, prefix: string): Promise<number | null> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const { rows } = await c.query(`SELECT seconds FROM "${markerSchema(prefix)}".meta WHERE id = 1`);
    return rows[0]?.seconds ?? null;
  } finally {
    await c.end();
  }
}

async function countsOf(databaseUrl: string, prefix: string): Promise<{ rows: number; pending: number }> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const { rows } = await c.query(`SELECT COALESCE(SUM(rows), 0)::bigint AS n FROM "${markerSchema(prefix)}".batch`);
    const pending = await c.query(`SELECT COUNT(*)::bigint AS n FROM "${prefix}_pharmacy".pharmacy_request WHERE status = 'PENDING'`);
    return { rows: Number(rows[0].n), pending: Number(pending.rows[0].n) };
  } finally {
    await c.end();
  }
}

async function main() {
  const sizes = option('patients', '1000,100000').split(',').map((s) => Number(s.replace(/_/g, '')));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--patients takes whole numbers separated by commas');
  const requests = Number(option('requests', '200'));
  const concurrency = Number(option('concurrency', '4'));
  const port = Number(option('port', '5200'));
  const base = option('schema-prefix', 'scale');
  const databaseUrl = option('database-url', process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const drop = process.argv.includes('--drop');
  if (process.env.NODE_ENV === 'production') throw new Error('NODE_ENV=production refuses to run the scale benchmark.');

  const results: { size: number; generator: number | null; rows: number; pending: number; largestTeam: number; bytes: number; timings: Map<string, Timing>; details: Map<string, string> }[] = [];
  for (const size of sizes) {
    const prefix = `${base}_${size}`;
    console.error(`\n== ${size} patients (schemas ${prefix}_*) ==`);
    const { plan } = await loadPopulation({ databaseUrl, patients: size, seed: 1, schemaPrefix: prefix, onProgress: progressPrinter(), production: false });
    const generator = await generatorSeconds(databaseUrl, prefix);
    const bytes = await populationBytes(databaseUrl, prefix);
    const { rows, pending } = await countsOf(databaseUrl, prefix);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-scale-'));
    const config = readConfig({ ...process.env, DATA_DIR: dataDir, DATABASE_URL: databaseUrl, RATE_LIMIT_RECORD_DOWNLOAD: 'off,off', NODE_ENV: 'development' });
    const stack = await startStack({ config, port, ephemeralPorts: true, seedDemo: false, databasePrefix: prefix, subgraphTimeoutMs: 30_000 });
    const timings = new Map<string, Timing>();
    const details = new Map<string, string>();
    try {
      const key = await loadSigningKey({ dataDir, production: false });
      const scenarios = await scaleScenarios(
        { graphqlUrl: stack.graphqlUrl, gatewayUrl: stack.gatewayUrl, config, identity: stack.subgraphs.identity.database.dataSource, key, plan },
        { patients: 100, seed: 42 },
      );
      for (const s of scenarios) {
        const fhir = s.name.startsWith('FHIR');
        const t = await measure(s, fhir ? Math.max(5, Math.round(requests / 20)) : requests, fhir ? 1 : concurrency, fhir);
        timings.set(s.name, t);
        details.set(s.name, s.detail);
        console.error(`${s.name.padEnd(26)} p50 ${t.p50.toFixed(1)} ms  p99 ${t.p99.toFixed(1)} ms${t.rssGrowthMiB !== undefined ? `  rss +${t.rssGrowthMiB.toFixed(0)} MiB` : ''}`);
      }
    } finally {
      await stack.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
    results.push({ size, generator, rows, pending, largestTeam: plan.teams[0].size, bytes, timings, details });
    if (drop) await dropPopulation(databaseUrl, prefix);
  }

  const head = `| operation | ${results.map((r) => `${r.size.toLocaleString('en-US')} patients p50 / p99`).join(' | ')} |`;
  const lines = [head, `|---|${results.map(() => '---').join('|')}|`];
  const names = [...results[0].timings.keys()];
  for (const name of names) {
    lines.push(
      `| ${name} (${results[0].details.get(name)}) | ${results
        .map((r) => {
          const t = r.timings.get(name)!;
          return `${t.p50.toFixed(0)} / ${t.p99.toFixed(0)} ms${t.rssGrowthMiB !== undefined ? `, RSS +${t.rssGrowthMiB.toFixed(0)} MiB` : ''}`;
        })
        .join(' | ')} |`,
    );
  }
  lines.push(`| generator (time to load) | ${results.map((r) => (r.generator === null ? '?' : `${r.generator.toFixed(0)} s`)).join(' | ')} |`);
  lines.push(`| rows | ${results.map((r) => r.rows.toLocaleString('en-US')).join(' | ')} |`);
  lines.push(`| pending pharmacy requests (the queue) | ${results.map((r) => r.pending.toLocaleString('en-US')).join(' | ')} |`);
  lines.push(`| largest care team (CareTeamInbox's) | ${results.map((r) => `${r.largestTeam.toLocaleString('en-US')} patients`).join(' | ')} |`);
  lines.push(`| database size | ${results.map((r) => `${(r.bytes / 2 ** 20).toFixed(0)} MiB`).join(' | ')} |`);
  console.log(`\n${requests} requests per operation at concurrency ${concurrency} (FHIR: ${Math.max(5, Math.round(requests / 20))} one at a time); PostgreSQL, all servers in one Node process.\n`);
  console.log(lines.join('\n'));
}

main().catch((e: Error) => {
  console.error(`bench:scale: ${e.message}`);
  process.exit(1);
});
