/**
 * Measures PortalView through the gateway: latency percentiles, throughput,
 * SQL statements per subgraph and memory, for a patient with few rows and one
 * with many. Everything runs on loopback in a temporary DATA_DIR.
 *   npm run bench:portal -- [--rows 500] [--requests 300] [--concurrency 8]
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
process.env.PORTAL_QUIET = '1';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { readConfig } from '@portal/kit';
import { gql } from '@portal/kit/testing';
import { seedScalePatient as identityScale } from '@portal/identity';
import { seedScalePatient as schedulingScale } from '@portal/scheduling';
import { seedScalePatient as messagingScale } from '@portal/messaging';
import { seedScalePatient as pharmacyScale } from '@portal/pharmacy';
import { seedScalePatient as clinicalScale } from '@portal/clinical-records';
import { startStack } from '@portal/server';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

async function main() {
  const rows = arg('rows', 500);
  const requests = arg('requests', 300);
  const concurrency = arg('concurrency', 8);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-bench-'));
  const config = { ...readConfig({ ...process.env, DATA_DIR: dataDir }) };
  const stack = await startStack({ config, port: 0, ephemeralPorts: true, seedDemo: true, databasePrefix: `bench_${randomBytes(3).toString('hex')}` });
  const query = fs.readFileSync(path.join(__dirname, '..', 'schema', 'operations', 'portal.graphql'), 'utf8');
  const portalView = query.slice(query.indexOf('query PortalView'), query.indexOf('# ----', query.indexOf('query PortalView')));
  try {
    const tokenFor = async (count: number) => {
      const id = `pt-bench-${count}-${randomBytes(3).toString('hex')}`;
      const username = `bench.${count}.${randomBytes(2).toString('hex')}`;
      await identityScale(stack.subgraphs.identity.database.dataSource, { patientId: id, count, username, password: 'Bench-Password-1' });
      await schedulingScale(stack.subgraphs.scheduling.database.dataSource, { patientId: id, count });
      await messagingScale(stack.subgraphs.messaging.database.dataSource, { patientId: id, count });
      await pharmacyScale(stack.subgraphs.pharmacy.database.dataSource, { patientId: id, count });
      await clinicalScale(stack.subgraphs['clinical-records'].database.dataSource, { patientId: id, count });
      const res = await gql(stack.graphqlUrl, 'mutation($u:String!,$p:String!){ signInWithDsLogon(input:{username:$u,password:$p}) { accessToken } }', { u: username, p: 'Bench-Password-1' });
      return res.data.signInWithDsLogon.accessToken as string;
    };
    console.log(`PortalView benchmark: ${requests} requests, concurrency ${concurrency}, database ${config.databaseUrl ? 'PostgreSQL' : 'SQLite'}`);
    for (const count of [3, rows]) {
      const token = await tokenFor(count);
      for (const s of Object.values(stack.subgraphs)) s.database.counter.count = 0;
      const probe = await gql(stack.graphqlUrl, portalView, {}, token);
      if (probe.errors) throw new Error(`PortalView failed: ${JSON.stringify(probe.errors)}`);
      const statements = Object.fromEntries(Object.values(stack.subgraphs).map((s) => [s.name, s.database.counter.count]));
      const latencies: number[] = [];
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < requests) {
            next++;
            const t0 = performance.now();
            const res = await gql(stack.graphqlUrl, portalView, {}, token);
            if (res.errors) throw new Error('PortalView failed during the run');
            latencies.push(performance.now() - t0);
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1);
      console.log(
        `rows per list ${String(count).padStart(4)}: p50 ${pct(50)} ms, p95 ${pct(95)} ms, p99 ${pct(99)} ms, ${(requests / seconds).toFixed(1)} req/s, ` +
          `rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB, SQL statements ${JSON.stringify(statements)}`,
      );
    }
  } finally {
    await stack.close();
    for (const s of Object.values(stack.subgraphs)) await s.database.destroyAndDrop().catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
