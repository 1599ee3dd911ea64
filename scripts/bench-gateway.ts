/**
 * The project's gateway side by side with Hive Gateway, on the same
 * subgraphs, the same committed supergraph and the same data:
 *   npm run bench:gateway -- [--patients 100] [--duration 15] [--warmup 5] [--rounds 2]
 *                            [--connections 8] [--layout split|single|both] [--stack-threads 1,2] [--base-port 5100] [--profile DIR]
 *                            [--compare-merging]
 *
 * 1. Seeds a temporary SQLite DATA_DIR (the demo cast plus `--patients`
 *    synthetic patients with a few rows in every list), opens a session for
 *    each and signs its token as identity does.
 * 2. `split`: starts each subgraph in its own process (scripts/subgraph.ts),
 *    then the project's gateway alone (scripts/gateway.ts) and Hive Gateway
 *    (bench/hive, installed with `npm ci` on first use; Authorization and the
 *    request id forwarded, subgraph request dedupe off), and sends PortalView
 *    (schema/operations/portal.graphql) with the patients' tokens round-robin
 *    through autocannon, in rounds A/B, B/A, A/B... (each round's order turned,
 *    so that neither gateway always goes first while the subgraphs still warm
 *    up) after a warm-up of each. `--compare-merging` adds a third gateway of
 *    the project's with SUBGRAPH_FETCH_MERGING=0 (Apollo's plan as it is).
 *    `single`: the whole stack in one process, as `npm start` runs it.
 * 3. Prints, per round, req/s, p50, p99, errors (non-2xx, GraphQL errors,
 *    socket errors) and the CPU milliseconds per request of every process
 *    (utime + stime from /proc/<pid>/stat), then the ratio of the two gateways.
 *
 * `--profile DIR` starts the project's gateway and subgraphs with
 * `node --cpu-prof --cpu-prof-dir=DIR` (written when they stop).
 * Everything listens on 127.0.0.1, ports from `--base-port`; every process is
 * stopped and the DATA_DIR removed at the end, also on failure.
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
process.env.PORTAL_QUIET = '1';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { execute, loadSigningKey, readConfig, signAccessToken, sql } from '@portal/kit';
import { SESSION_MAX_SECONDS } from '@portal/kit';
import { openSession, seedScalePatient as identityScale } from '@portal/identity';
import { seedScalePatient as schedulingScale } from '@portal/scheduling';
import { seedScalePatient as messagingScale } from '@portal/messaging';
import { seedScalePatient as pharmacyScale } from '@portal/pharmacy';
import { seedScalePatient as clinicalScale } from '@portal/clinical-records';
import { SUBGRAPHS, type SubgraphName } from '@portal/gateway';
import { startStack, startThreadedStack } from '@portal/server';

const ROOT = path.resolve(__dirname, '..');
const HIVE_DIR = path.join(ROOT, 'bench', 'hive');

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
// autocannon ships no types; the subset used here is above.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (options: object) => Promise<AutocannonResult>;

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
};
const num = (name: string, fallback: number) => {
  const n = Number(arg(name, String(fallback)));
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number`);
  return n;
};

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time a process has used so far, in ms (user + system, from the kernel's counters). */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

interface Proc {
  name: string;
  child: ChildProcess;
  output: string[];
}

const children: Proc[] = [];

function start(name: string, args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Proc {
  const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = { name, child, output: [] };
  const keep = (chunk: Buffer) => {
    proc.output.push(chunk.toString());
    if (proc.output.length > 50) proc.output.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  children.push(proc);
  return proc;
}

async function stopAll(): Promise<void> {
  await Promise.all(
    children.splice(0).map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

/** Waits until `probe` answers true; fails with the process's last output if it exits or takes too long. */
async function waitFor(proc: Proc, probe: () => Promise<boolean>, seconds = 90): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited: ${proc.output.join('').slice(-2000)}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${proc.name} did not become ready in ${seconds} s: ${proc.output.join('').slice(-2000)}`);
}

const ok = (url: string) => fetch(url, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok);

async function post(url: string, body: string, token: string): Promise<{ data?: unknown; errors?: unknown[] }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body });
  return (await res.json()) as { data?: unknown; errors?: unknown[] };
}

/** The Hive Gateway package, installed from its lock file on first use (never by the root `npm ci`). */
function ensureHive(): void {
  if (fs.existsSync(path.join(HIVE_DIR, 'node_modules', '@graphql-hive', 'router-runtime', 'package.json'))) return;
  console.log('Installing Hive Gateway into bench/hive (first use) ...');
  execFileSync('npm', ['ci', '--prefix', HIVE_DIR, '--no-audit', '--no-fund'], { stdio: 'inherit' });
}

/**
 * Seeds the demo cast and `patients` synthetic patients (a few rows in every
 * list), each with a DS Logon account and an open session, and returns their
 * access tokens, signed as identity signs a sign-in's (same key, claims and
 * lifetime). Sessions are opened directly rather than by signing in: 100
 * scrypt hashes and checks would take minutes on a busy machine.
 */
async function seed(dataDir: string, patients: number): Promise<string[]> {
  const config = readConfig({ ...process.env, DATA_DIR: dataDir });
  const stack = await startStack({ config, port: 0, ephemeralPorts: true, seedDemo: true });
  try {
    const db = (name: SubgraphName) => stack.subgraphs[name].database.dataSource;
    const [{ hash }] = await sql<{ hash: string }>(db('identity'), 'SELECT password_hash AS hash FROM account WHERE password_hash IS NOT NULL LIMIT 1');
    const key = await loadSigningKey({ file: config.tokenSigningKeyFile, dataDir: config.dataDir, production: false });
    const tokens: string[] = [];
    // One patient after another: SQLite takes one transaction at a time.
    for (let n = 0; n < patients; n++) {
      const personId = `pt-bench-${n}-${randomBytes(3).toString('hex')}`;
      const accountId = `ac-${personId}`;
      const count = 2 + (n % 3);
      await identityScale(db('identity'), { patientId: personId, count });
      await execute(
        db('identity'),
        `INSERT INTO account (id, person_id, username, password_hash, role, status, created_at, deactivated_at) VALUES ($1, $2, $3, $4, 'PATIENT', 'ACTIVE', $5, NULL)`,
        [accountId, personId, `bench.${n}.${randomBytes(2).toString('hex')}`, hash, new Date().toISOString()],
      );
      await schedulingScale(db('scheduling'), { patientId: personId, count });
      await messagingScale(db('messaging'), { patientId: personId, count });
      await pharmacyScale(db('pharmacy'), { patientId: personId, count });
      await clinicalScale(db('clinical-records'), { patientId: personId, count });
      const session = await openSession(config, db('identity'), accountId, 'DS_LOGON');
      const careTeamIds = (await sql<{ id: string }>(db('identity'), 'SELECT care_team_id AS id FROM care_team_member WHERE person_id = $1', [personId])).map((r) => r.id).sort();
      const { token } = await signAccessToken(key, { accountId, personId, role: 'PATIENT', method: 'DS_LOGON', sessionId: session.id, careTeamIds }, SESSION_MAX_SECONDS);
      tokens.push(token);
    }
    // The tokens work end to end before any gateway is measured.
    const probe = await post(stack.graphqlUrl, JSON.stringify({ query: '{ me { account { id signInMethods } } }' }), tokens[0]);
    if (probe.errors || !probe.data) throw new Error(`a synthetic patient's token does not work: ${JSON.stringify(probe.errors)}`);
    return tokens;
  } finally {
    await stack.close();
  }
}

/**
 * The path of the first value in which two answers differ, '' when none does
 * (no values are printed: they are health data, even synthetic). The session's
 * idle deadline moves with every request and is not compared.
 */
function firstDifference(a: unknown, b: unknown, at = 'data'): string {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return isDeepStrictEqual(a, b) ? '' : at;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  for (const k of keys) {
    if (k === 'expiresAt' && at.endsWith('.session')) continue;
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
    if (d) return d;
  }
  return '';
}

interface Target {
  name: string;
  url: string;
  /** Processes whose CPU is counted, by label. */
  processes: { label: string; pid: number }[];
}

interface Round {
  target: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
  cpu: Record<string, number>;
}

async function load(target: Target, body: string, tokens: string[], seconds: number, connections: number): Promise<Round> {
  let next = 0;
  let graphqlErrors = 0;
  const before = target.processes.map((p) => cpuMs(p.pid));
  const result = await autocannon({
    url: `${target.url}/graphql`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    requests: [
      {
        setupRequest: (req: { headers: Record<string, string> }) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` } }),
        onResponse: (status: number, resBody: string) => {
          if (status === 200 && resBody && resBody.includes('"errors"')) graphqlErrors++;
        },
      },
    ],
  });
  const requests = result.requests.total;
  const cpu = Object.fromEntries(target.processes.map((p, i) => [p.label, (cpuMs(p.pid) - before[i]) / Math.max(1, requests)]));
  return {
    target: target.name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx + graphqlErrors,
    requests,
    cpu,
  };
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

function table(rounds: Round[], labels: string[]): string {
  const head = `| round | gateway | req/s | p50 ms | p99 ms | errors | ${labels.map((l) => `${l} CPU ms/req`).join(' | ')} |`;
  const sep = `|${'---|'.repeat(6 + labels.length)}`;
  const rows = rounds.map((r, i) => `| ${i + 1} | ${r.target} | ${fmt(r.rps, 0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${labels.map((l) => (r.cpu[l] === undefined ? '' : fmt(r.cpu[l], 2))).join(' | ')} |`);
  return [head, sep, ...rows].join('\n');
}

function summary(rounds: Round[], name: string) {
  const mine = rounds.filter((r) => r.target === name);
  const mean = (f: (r: Round) => number) => mine.reduce((s, r) => s + f(r), 0) / Math.max(1, mine.length);
  return { rps: mean((r) => r.rps), p99: mean((r) => r.p99), errors: mine.reduce((s, r) => s + r.errors, 0) };
}

async function main() {
  const patients = num('patients', 100);
  const duration = num('duration', 15);
  const warmup = num('warmup', 5);
  const rounds = num('rounds', 2);
  const connections = num('connections', 8);
  const layout = arg('layout', 'both');
  const base = num('base-port', 5100);
  // `npm start` as it runs by default (1: one thread) and on two cores (2: the subgraphs in a worker thread).
  const stackThreads = arg('stack-threads', '1,2').split(',').map((t) => t.trim());
  if (stackThreads.some((t) => t !== '1' && t !== '2')) throw new Error('--stack-threads is 1, 2 or 1,2');
  const compareMerging = process.argv.includes('--compare-merging');
  const profileDir = process.argv.includes('--profile') ? path.resolve(arg('profile', 'profiles')) : undefined;
  if (!['split', 'single', 'both'].includes(layout)) throw new Error('--layout is split, single or both');
  if (layout !== 'single') ensureHive();
  const profiled = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];

  const query = fs.readFileSync(path.join(ROOT, 'schema', 'operations', 'portal.graphql'), 'utf8');
  const at = query.indexOf('query PortalView');
  const portalView = query.slice(at, query.indexOf('# ----', at) > 0 ? query.indexOf('# ----', at) : undefined);
  const body = JSON.stringify({ query: portalView, operationName: 'PortalView' });

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-bench-gateway-'));
  const quiet = { DATA_DIR: dataDir, PORTAL_QUIET: '1', PORTAL_LOG_ERRORS: '0', APOLLO_TELEMETRY_DISABLED: '1', DATABASE_URL: '', REDIS_URL: '' };
  try {
    console.log(`Seeding ${patients} synthetic patients into ${dataDir} (SQLite) ...`);
    const tokens = await seed(dataDir, patients);
    console.log(`PortalView, ${connections} connections, ${patients} patients' tokens round-robin, ${rounds} rounds of ${duration} s each (after ${warmup} s warm-up), ${os.cpus().length} cores`);

    if (layout !== 'single') {
      const urlOf = (name: SubgraphName) => `http://127.0.0.1:${base + 1 + SUBGRAPHS.findIndex((s) => s.name === name)}`;
      const subgraphEnv = { ...quiet, IDENTITY_URL: urlOf('identity'), PHARMACY_URL: urlOf('pharmacy') };
      const subgraphs = SUBGRAPHS.map(({ name }) => ({ name, proc: start(name, ['--import', 'tsx', 'scripts/subgraph.ts', name], { ...subgraphEnv, PORT: String(new URL(urlOf(name)).port) }, profiled) }));
      for (const s of subgraphs) await waitFor(s.proc, () => ok(`${urlOf(s.name)}/health/live`));
      const gatewayUrl = `http://127.0.0.1:${base + 10}`;
      const urls = Object.fromEntries(SUBGRAPHS.map(({ name }) => [`${name.toUpperCase().replace(/-/g, '_')}_URL`, urlOf(name)]));
      const gateway = start('gateway', ['--import', 'tsx', 'scripts/gateway.ts'], { ...quiet, ...urls, PORT: String(base + 10) }, profiled);
      const unmergedUrl = `http://127.0.0.1:${base + 11}`;
      const unmerged = compareMerging
        ? start('gateway-unmerged', ['--import', 'tsx', 'scripts/gateway.ts'], { ...quiet, ...urls, PORT: String(base + 11), SUBGRAPH_FETCH_MERGING: '0' }, profiled)
        : undefined;
      const hiveUrl = `http://127.0.0.1:${base + 20}`;
      const hive = start('hive', [path.join(HIVE_DIR, 'serve.mjs')], {
        HIVE_PORT: String(base + 20),
        HIVE_SUPERGRAPH: path.join(ROOT, 'schema', 'supergraph.graphql'),
        HIVE_SUBGRAPH_URLS: JSON.stringify(Object.fromEntries(SUBGRAPHS.map(({ name }) => [name, `${urlOf(name)}/graphql`]))),
      });
      await waitFor(gateway, () => ok(`${gatewayUrl}/health/live`));
      if (unmerged) await waitFor(unmerged, () => ok(`${unmergedUrl}/health/live`));
      await waitFor(hive, async () => (await post(`${hiveUrl}/graphql`, body, tokens[0])).data !== undefined);

      // Both answer the same, and without errors, before anything is measured.
      for (const token of [tokens[0], tokens[patients - 1]]) {
        const [a, b] = await Promise.all([post(`${gatewayUrl}/graphql`, body, token), post(`${hiveUrl}/graphql`, body, token)]);
        if (a.errors || b.errors) throw new Error(`PortalView answered errors: gateway ${JSON.stringify(a.errors)}, hive ${JSON.stringify(b.errors)}`);
        const differs = firstDifference(a.data, b.data);
        if (differs) throw new Error(`The two gateways answer PortalView differently, first at ${differs}.`);
        if (unmerged) {
          const c = await post(`${unmergedUrl}/graphql`, body, token);
          const unlike = c.errors ? 'errors' : firstDifference(a.data, c.data);
          if (unlike) throw new Error(`The project's gateway answers PortalView differently without merging, first at ${unlike}.`);
        }
      }
      const subgraphProcs = subgraphs.map((s) => ({ label: s.name, pid: s.proc.child.pid! }));
      const targets: Target[] = [
        { name: 'project', url: gatewayUrl, processes: [{ label: 'gateway', pid: gateway.child.pid! }, ...subgraphProcs] },
        { name: 'hive', url: hiveUrl, processes: [{ label: 'gateway', pid: hive.child.pid! }, ...subgraphProcs] },
        ...(unmerged ? [{ name: 'project, merging off', url: unmergedUrl, processes: [{ label: 'gateway', pid: unmerged.child.pid! }, ...subgraphProcs] }] : []),
      ];
      if (warmup > 0) for (const t of targets) await load(t, body, tokens, warmup, connections);
      const results: Round[] = [];
      for (let r = 0; r < rounds; r++) {
        // Each round starts with another gateway: A/B, B/A, ... (A/B/C, B/C/A, ... with --compare-merging).
        for (const t of [...targets.slice(r % targets.length), ...targets.slice(0, r % targets.length)]) {
          const round = await load(t, body, tokens, duration, connections);
          round.cpu['subgraphs'] = SUBGRAPHS.reduce((s, { name }) => s + round.cpu[name], 0);
          results.push(round);
          console.log(`  ${t.name.padEnd(8)} ${fmt(round.rps, 0)} req/s, p50 ${round.p50} ms, p99 ${round.p99} ms, ${round.errors} errors`);
        }
      }
      console.log(`\nProcess per service (SQLite), PortalView:\n`);
      console.log(table(results, ['gateway', 'subgraphs', ...SUBGRAPHS.map((s) => s.name)]));
      const a = summary(results, 'project');
      const b = summary(results, 'hive');
      console.log(`\nproject gateway / Hive Gateway: throughput ${fmt(a.rps / b.rps, 2)}x, p99 ${fmt(a.p99 / b.p99, 2)}x (means of ${rounds} rounds)`);
      if (unmerged) {
        const c = summary(results, 'project, merging off');
        console.log(`project gateway, merging off / Hive Gateway: throughput ${fmt(c.rps / b.rps, 2)}x, p99 ${fmt(c.p99 / b.p99, 2)}x`);
      }
      await stopAll();
    }

    if (layout !== 'split') {
      for (const threads of stackThreads) {
        const url = `http://127.0.0.1:${base + 30}`;
        const stack = start('stack', ['--import', 'tsx', __filename, '--serve-stack', String(base + 30)], { ...quiet, STACK_THREADS: threads }, profiled);
        await waitFor(stack, () => ok(`${url}/health/live`));
        const probe = await post(`${url}/graphql`, body, tokens[0]);
        if (probe.errors) throw new Error(`PortalView answered errors: ${JSON.stringify(probe.errors)}`);
        const target: Target = { name: `npm start, STACK_THREADS=${threads}`, url, processes: [{ label: 'process', pid: stack.child.pid! }] };
        if (warmup > 0) await load(target, body, tokens, warmup, connections);
        const results: Round[] = [];
        for (let r = 0; r < rounds; r++) {
          const round = await load(target, body, tokens, duration, connections);
          results.push(round);
          console.log(`  ${target.name} ${fmt(round.rps, 0)} req/s, p50 ${round.p50} ms, p99 ${round.p99} ms, ${round.errors} errors`);
        }
        console.log(`\nAll six servers in one process (\`npm start\`, STACK_THREADS=${threads}, SQLite), PortalView:\n`);
        console.log(table(results, ['process']));
        await stopAll();
      }
    }
  } finally {
    await stopAll();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `--serve-stack PORT`: the whole stack in this process, as `npm start` runs it, on the seeded DATA_DIR. */
async function serveStack(port: number) {
  // STACK_THREADS=2: the subgraphs in a worker thread, as `npm start` runs them with that setting.
  const options = { config: readConfig(), port, ephemeralPorts: true, seedDemo: false };
  const stack = process.env.STACK_THREADS === '2' ? await startThreadedStack(options) : await startStack(options);
  console.log(`stack at ${stack.gatewayUrl}/graphql`);
  const stop = () => stack.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

const serving = process.argv.indexOf('--serve-stack');
(serving > 0 ? serveStack(Number(process.argv[serving + 1])) : main()).catch(async (e: Error) => {
  console.error(e.message);
  await stopAll();
  process.exit(1);
});
