/**
 * Measures what an attack costs the people using the portal: PortalView for
 * Jane and John on several connections, first alone, then while an attacker
 * (a child process, so its own work does not run on the servers' event loop)
 * floods sign-in with wrong passwords, sprays one password over many
 * usernames and sends hostile documents. Reports the normal traffic's
 * latency with and without the attack and the attack's answers by code.
 * Everything runs on 127.0.0.1 in a temporary DATA_DIR, bounded in time and
 * in request count.
 *   npm run bench:abuse -- [--seconds 10] [--connections 4] [--attack-concurrency 8]
 *                          [--attack-max 20000] [--attack-addresses 1] [--doubling 14]
 *                          [--shapes flood,spray,doubling,aliases,challenges,deep]
 * `--doubling` is kept low by default: before the document limits, a gateway
 * validates fragment doubling in 2^k steps, and k = 20 would hold its event
 * loop (and this benchmark) for minutes.
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
process.env.PORTAL_QUIET = '1';
process.env.PORTAL_LOG_ERRORS = '0';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  const value = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number`);
  return value;
};

// ---------------------------------------------------------------- the attacker

/** The hostile requests, one builder per shape; `i` counts the attacker's requests. */
type Shape = { label: string; build: (i: number) => { query: string; variables?: Record<string, unknown> } };

function attackShapes(doubling: number): Record<string, Shape> {
  const SIGN_IN = 'mutation($u: String!, $p: String!) { signInWithDsLogon(input: { username: $u, password: $p }) { accessToken } }';
  let fragments = 'query Doubling { ...F0 }\n';
  for (let k = 0; k < doubling; k++) fragments += `fragment F${k} on Query { ...F${k + 1} ...F${k + 1} }\n`;
  fragments += `fragment F${doubling} on Query { supportContacts { name } }\n`;
  const aliases = `query Aliases { ${Array.from({ length: 10_000 }, (_, k) => `a${k}: supportContacts { name }`).join(' ')} }`;
  const challenges = `query Challenges { ${Array.from({ length: 500 }, (_, k) => `c${k}: smartCardChallenge { challenge }`).join(' ')} }`;
  // Appointment.visitNote -> VisitNote.appointment -> ... crosses two subgraphs at every level: 125 fields deep.
  const nested = `query Deep { me { patient { appointments(first: 1) { edges { node { id ${'visitNote { appointment { '.repeat(60)}id${' } }'.repeat(60)} } } } } } }`;
  return {
    flood: { label: 'sign-in flood (one user, wrong passwords)', build: (i) => ({ query: SIGN_IN, variables: { u: 'john.roe', p: `Wrong-Password-${i}` } }) },
    spray: { label: 'password spray (one password, many users)', build: (i) => ({ query: SIGN_IN, variables: { u: `sprayed.user${i}`, p: 'Winter-2026!' } }) },
    doubling: { label: `fragment doubling (2^${doubling})`, build: () => ({ query: fragments }) },
    aliases: { label: '10,000 aliases', build: () => ({ query: aliases }) },
    challenges: { label: '500 challenge aliases', build: () => ({ query: challenges }) },
    deep: { label: 'nesting 125 deep', build: () => ({ query: nested }) },
  };
}

async function runAttacker(url: string, options: { concurrency: number; max: number; addresses: number; doubling: number; seconds: number; shapes: string[] }) {
  const all = attackShapes(options.doubling);
  const unknown = options.shapes.filter((s) => !all[s]);
  if (unknown.length) throw new Error(`unknown shapes ${unknown.join(', ')}; known: ${Object.keys(all).join(', ')}`);
  const shapes = options.shapes.map((s) => [all[s].label, all[s].build] as const);
  const counts: Record<string, Record<string, number>> = Object.fromEntries(shapes.map(([name]) => [name, {}]));
  let sent = 0;
  let stopping = false;
  process.on('message', (m) => {
    if (m === 'stop') stopping = true;
  });
  const deadline = Date.now() + options.seconds * 1000;
  const one = async (i: number) => {
    const [name, build] = shapes[i % shapes.length];
    const from = `203.0.113.${(i % options.addresses) + 1}`;
    let answer: string;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
        body: JSON.stringify(build(Math.floor(i / shapes.length))),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      let code = 'OK';
      try {
        const body = JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] };
        if (body.errors?.length) code = String(body.errors[0].extensions?.code ?? 'NO_CODE');
      } catch {
        code = 'NOT_JSON';
      }
      answer = `${res.status} ${code}`;
    } catch (e) {
      answer = (e as Error).name === 'TimeoutError' ? 'TIMEOUT (10 s)' : 'NETWORK_ERROR';
    }
    counts[name][answer] = (counts[name][answer] ?? 0) + 1;
  };
  process.send!('started');
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (!stopping && sent < options.max && Date.now() < deadline) await one(sent++);
    }),
  );
  process.send!({ sent, counts });
  process.disconnect();
}

// ---------------------------------------------------------------- the portal

interface Phase {
  latencies: number[];
  errors: number;
  /** Failed requests by status and first error code. */
  failures: Record<string, number>;
  seconds: number;
}

async function runNormal(graphqlUrl: string, query: string, tokens: string[], connections: number, seconds: number, gql: typeof import('@portal/kit/testing').gql): Promise<Phase> {
  const latencies: number[] = [];
  let errors = 0;
  const failures: Record<string, number> = {};
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      while (performance.now() < until) {
        const t0 = performance.now();
        const res = await gql(graphqlUrl, query, {}, tokens[c % tokens.length]).catch((e: Error) => ({ status: 0, errors: [{ message: e.name, extensions: { code: e.name } }] }));
        if (res.errors || res.status !== 200) {
          errors++;
          const key = `${res.status} ${res.errors?.[0]?.extensions?.code ?? ''}`.trim();
          failures[key] = (failures[key] ?? 0) + 1;
        } else latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies: latencies.sort((a, b) => a - b), errors, failures, seconds: (performance.now() - started) / 1000 };
}

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
const describe = (label: string, phase: Phase) =>
  `${label}: ${phase.latencies.length} PortalViews in ${phase.seconds.toFixed(1)} s (${(phase.latencies.length / phase.seconds).toFixed(1)}/s), ` +
  `p50 ${pct(phase.latencies, 50).toFixed(1)} ms, p99 ${pct(phase.latencies, 99).toFixed(1)} ms, max ${(phase.latencies.at(-1) ?? NaN).toFixed(1)} ms, failed ${phase.errors}${phase.errors ? ` (${Object.entries(phase.failures).map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`;

async function main() {
  const seconds = arg('seconds', 10);
  const connections = arg('connections', 4);
  const attack = {
    concurrency: arg('attack-concurrency', 8),
    max: arg('attack-max', 20_000),
    addresses: Math.max(1, arg('attack-addresses', 1)),
    doubling: arg('doubling', 14),
    seconds,
    shapes: (process.argv[process.argv.indexOf('--shapes') + 1] && process.argv.includes('--shapes')
      ? process.argv[process.argv.indexOf('--shapes') + 1]
      : 'flood,spray,doubling,aliases,challenges,deep'
    ).split(','),
  };
  const { readConfig } = await import('@portal/kit');
  const { gql } = await import('@portal/kit/testing');
  const { passwordHashStats } = await import('@portal/identity');
  const { startStack } = await import('@portal/server');

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-abuse-'));
  // A Redis run shares its counters: give it a prefix of its own.
  const config = readConfig({ ...process.env, DATA_DIR: dataDir, REDIS_KEY_PREFIX: `bench-abuse-${randomBytes(4).toString('hex')}:` });
  const stack = await startStack({ config, port: 0, ephemeralPorts: true, seedDemo: true, databasePrefix: `abuse_${randomBytes(3).toString('hex')}` });
  const operations = fs.readFileSync(path.join(__dirname, '..', 'schema', 'operations', 'portal.graphql'), 'utf8');
  const portalView = operations.slice(operations.indexOf('query PortalView'), operations.indexOf('# ----', operations.indexOf('query PortalView')));
  try {
    const tokens: string[] = [];
    for (const [u, p] of [['jane.doe', 'Demo-Password-1'], ['john.roe', 'Demo-Password-2']]) {
      const res = await gql(stack.graphqlUrl, 'mutation($u:String!,$p:String!){ signInWithDsLogon(input:{username:$u,password:$p}) { accessToken } }', { u, p });
      if (!res.data?.signInWithDsLogon) throw new Error(`sign-in of ${u} failed: ${JSON.stringify(res.errors)}`);
      tokens.push(res.data.signInWithDsLogon.accessToken);
    }
    console.log(
      `Abuse benchmark: PortalView for Jane and John on ${connections} connections, ${seconds} s per phase; attacker: ${attack.concurrency} in flight, ` +
        `at most ${attack.max} requests, from ${attack.addresses} address(es), shapes ${attack.shapes.join(',')}; database ${config.databaseUrl ? 'PostgreSQL' : 'SQLite'}, limits ${config.redisUrl ? 'in Redis' : 'in memory'}`,
    );
    await runNormal(stack.graphqlUrl, portalView, tokens, connections, 1, gql); // warm-up
    const alone = await runNormal(stack.graphqlUrl, portalView, tokens, connections, seconds, gql);
    console.log(describe('without attack', alone));

    const statementsBefore = Object.fromEntries(Object.values(stack.subgraphs).map((s) => [s.name, s.database.counter.count]));
    const hashesBefore = passwordHashStats();
    const child = fork(__filename, ['--attacker', stack.graphqlUrl, JSON.stringify(attack)], { stdio: 'inherit' });
    const report = new Promise<{ sent: number; counts: Record<string, Record<string, number>> }>((resolve, reject) => {
      child.on('message', (m) => {
        if (typeof m === 'object') resolve(m as never);
      });
      child.on('exit', (code) => reject(new Error(`the attacker exited (${code}) without a report`)));
    });
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    const attacked = await runNormal(stack.graphqlUrl, portalView, tokens, connections, seconds, gql);
    if (child.connected) child.send('stop');
    const { sent, counts } = await report;
    const hashes = passwordHashStats();
    console.log(describe('under attack   ', attacked));
    console.log(`p99 under attack / p99 without: ${(pct(attacked.latencies, 99) / pct(alone.latencies, 99)).toFixed(2)}x`);
    console.log(`\nattack: ${sent} requests; answers by shape (HTTP status and first error code):`);
    for (const [shape, answers] of Object.entries(counts)) {
      const total = Object.values(answers).reduce((a, b) => a + b, 0);
      const list = Object.entries(answers).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
      console.log(`  ${shape.padEnd(44)} ${String(total).padStart(6)}: ${list}`);
    }
    const all: Record<string, number> = {};
    // "429 RATE_LIMITED" -> RATE_LIMITED; "TIMEOUT (10 s)" stays as it is.
    const codeOf = (answer: string) => (/^\d{3} /.test(answer) ? answer.slice(4) : answer);
    for (const answers of Object.values(counts)) for (const [k, n] of Object.entries(answers)) all[codeOf(k)] = (all[codeOf(k)] ?? 0) + n;
    console.log(`  by code: ${Object.entries(all).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    console.log(`scrypt computations during the attack: ${hashes.computed - hashesBefore.computed} run, ${hashes.refused - hashesBefore.refused} refused (hashing queue full)`);
    const statements = Object.values(stack.subgraphs).map((s) => `${s.name} ${s.database.counter.count - statementsBefore[s.name]}`).join(', ');
    console.log(`SQL statements during the attack phase (normal traffic included): ${statements}`);
  } finally {
    await stack.close();
    for (const s of Object.values(stack.subgraphs)) await s.database.destroyAndDrop().catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const attackerAt = process.argv.indexOf('--attacker');
if (attackerAt > 0) {
  runAttacker(process.argv[attackerAt + 1], JSON.parse(process.argv[attackerAt + 2])).catch((e: Error) => {
    console.error(`attacker: ${e.message}`);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (e: Error) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
