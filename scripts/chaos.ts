/**
 * Chaos run: the fault tests' scenarios (scripts/chaos/scenarios.ts), longer,
 * against the five subgraphs and the gateway each in a process of its own,
 * under a steady PortalView load from Jane's account. Prints per scenario:
 * requests sent, answered in full, answered partially, failed, the longest
 * wait and the time to recover (from the fault's end: process answering again,
 * SIGCONT sent, line restored; to the first full answer after it).
 *   npm run chaos -- [--seconds 20] [--clients 4] [--only pharmacy-hung,redis-stopped]
 * DATABASE_URL=postgres://... runs on PostgreSQL schemas of its own (and adds
 * the PostgreSQL restart); REDIS_URL (default redis://127.0.0.1:6379, `none`
 * to skip) is used for the Redis scenario only. Neither server is stopped:
 * faults are injected by proxies in front of them.
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
process.env.PORTAL_QUIET = '1';
import { randomBytes } from 'node:crypto';
import { signIn } from './chaos/load';
import { startProcessStack, type ProcessStack } from './chaos/processStack';
import { judge, runScenario, SCENARIOS, table, type Judgement, type Scenario, type ScenarioResult } from './chaos/scenarios';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};

function positive(name: string, fallback: number): number {
  const raw = arg(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number.`);
  return n;
}

async function main() {
  const seconds = positive('seconds', 20);
  const clients = positive('clients', 4);
  const timeoutMs = positive('subgraph-timeout-ms', 5_000);
  const only = arg('only')?.split(',').map((s) => s.trim());
  const unknown = only?.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown?.length) throw new Error(`Unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const redisUrl = process.env.REDIS_URL === 'none' ? undefined : process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const chosen = SCENARIOS.filter((s) => !only || only.includes(s.name));
  const run = (scenario: Scenario, stack: ProcessStack, token: string) =>
    runScenario(stack, scenario, {
      token,
      clients,
      pauseMs: 50,
      requestTimeoutMs: 120_000,
      beforeMs: 2_000,
      faultMs: seconds * 1_000,
      recoveryTimeoutMs: 120_000,
      afterMs: 3_000,
    });
  const env = { SUBGRAPH_TIMEOUT_MS: String(timeoutMs) };
  const rows: { result: ScenarioResult; judgement: Judgement }[] = [];
  const prefix = `chaos_${randomBytes(4).toString('hex')}`;

  // Sessions in identity's database for every fault but Redis's, which needs sessions in Redis.
  const groups: { redis: boolean; scenarios: Scenario[] }[] = [
    { redis: false, scenarios: chosen.filter((s) => s.name !== 'redis-stopped') },
    { redis: true, scenarios: redisUrl ? chosen.filter((s) => s.name === 'redis-stopped') : [] },
  ];
  for (const [i, group] of groups.entries()) {
    if (!group.scenarios.length) continue;
    console.log(`Starting the stack (${databaseUrl ? 'PostgreSQL' : 'SQLite'}${group.redis ? ', sessions in Redis' : ''}): five subgraphs and the gateway, one process each ...`);
    const stack = await startProcessStack({ databaseUrl, redisUrl: group.redis ? redisUrl : undefined, prefix: `${prefix}_${i}`, env });
    const stop = () => void stack.stop().finally(() => process.exit(130));
    process.once('SIGINT', stop);
    try {
      const token = await signIn(stack.graphqlUrl, 'jane.doe', 'Demo-Password-1');
      for (const scenario of group.scenarios.filter((s) => s.applies(stack))) {
        console.log(`${scenario.name}: ${scenario.title}, ${seconds} s under load from ${clients} clients ...`);
        const result = await run(scenario, stack, token);
        const judgement = judge(result);
        rows.push({ result, judgement });
        const failures = Object.entries(judgement.failures).map(([kind, n]) => `${n} x ${kind}`);
        if (failures.length) console.log(`  failed answers: ${failures.join('; ')}`);
        const violations = Object.entries(judgement.violations).map(([kind, n]) => `${n} x ${kind}`);
        console.log(violations.length ? `  NOT as expected: ${violations.join('; ')}` : '  as expected');
      }
    } finally {
      process.removeListener('SIGINT', stop);
      await stack.stop();
    }
  }
  console.log(`\nPortalView under faults (${databaseUrl ? 'PostgreSQL' : 'SQLite'}, ${clients} clients, ${seconds} s per fault, SUBGRAPH_TIMEOUT_MS=${timeoutMs}):\n`);
  console.log(table(rows));
}

main().catch((e: Error) => {
  console.error(`Chaos run failed: ${e.message}`);
  process.exit(1);
});
