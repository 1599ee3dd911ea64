/**
 * Fault injection, end to end: each subgraph and the gateway in a process of
 * its own (scripts/chaos/processStack.ts), Jane's PortalView sent steadily by
 * a few clients, and one fault at a time: a subgraph stopped, a subgraph hung,
 * identity stopped, PostgreSQL restarted, Redis stopped. `npm run chaos` runs
 * the same scenarios for longer and prints what they cost.
 *
 * Most expectations here hold only with the behaviour of issue 12 (branches
 * r12a and r12b), marked at each test:
 *   r12a: degrade by section (a subgraph down, hung or behind an open breaker
 *         costs only its fields: null plus an error with a path and
 *         SERVICE_UNAVAILABLE), SUBGRAPH_TIMEOUT_MS, the circuit breaker.
 *   r12b: last-good JWKS and 503 (never 401) while identity is down, drain on
 *         SIGTERM, pool timeouts and clean SERVICE_UNAVAILABLE when PostgreSQL
 *         drops its connections, Redis faults as 503 then recovery.
 */
import { skipWithoutRedis, testDatabaseUrl, testRedisUrl, testTempDir, uniqueDatabasePrefix, uniqueRedisKeyPrefix } from '@portal/kit/testing';
import { portalOperation, send, signIn } from './load';
import { startProcessStack, type ProcessStack } from './processStack';
import { judge, runScenario, SCENARIOS, type Judgement, type RunOptions } from './scenarios';

/** The per-subgraph budget the gateway is given here (r12a's default is about 5 s; shorter keeps the test short). */
const SUBGRAPH_TIMEOUT_MS = 3_000;
/** On a loaded 2-core machine an answer can take a few seconds on its own: the margin over the budget. */
const MARGIN_MS = 7_000;

const RUN: Omit<RunOptions, 'token'> = {
  clients: 3,
  pauseMs: 100,
  // Well above budget plus margin, so that a request that waits too long is measured, not cut short.
  requestTimeoutMs: 45_000,
  beforeMs: 1_000,
  faultMs: 4_000,
  // A restarted process compiles with tsx first; a breaker waits out its reset time.
  recoveryTimeoutMs: 45_000,
  afterMs: 1_000,
};

const ENV = {
  SUBGRAPH_TIMEOUT_MS: String(SUBGRAPH_TIMEOUT_MS),
  // r12a's circuit breaker: open after a few failures, try again soon, so a test sees both.
  SUBGRAPH_BREAKER_FAILURES: '3',
  SUBGRAPH_BREAKER_RESET_MS: '2000',
};

const scenario = (name: string) => SCENARIOS.find((s) => s.name === name)!;

/** What every scenario must show, as one object, so that a failed test shows everything that went wrong at once. */
const HELD = { answersDuringFault: true, violations: {}, unauthenticated: 0, longestWait: 'within budget and margin', recovered: true, notFullAfterRecovery: 0 };

function held(j: Judgement) {
  return {
    // The fault was really under load: answers arrived while it lasted.
    answersDuringFault: j.duringFault >= 3,
    // Every answer from the injection to recovery is one the fault allows (sections, paths, codes; no internal detail).
    violations: j.violations,
    // A valid token is never told to sign in again because something behind it is down.
    unauthenticated: j.unauthenticated,
    // Bounded waits: nobody waits longer than the budget plus a margin.
    longestWait: j.longestWaitMs <= SUBGRAPH_TIMEOUT_MS + MARGIN_MS ? 'within budget and margin' : `${j.longestWaitMs} ms`,
    // Recovery by itself, and full answers from then on.
    recovered: j.recoveryMs !== undefined,
    notFullAfterRecovery: j.notFullAfterRecovery,
  };
}

/** Runs a scenario under load; `probe` is called once half-way through the fault. */
async function run<P = undefined>(stack: ProcessStack, token: string, name: string, probe?: () => Promise<P>): Promise<{ j: Judgement; probe: P }> {
  const result = await runScenario(stack, scenario(name), { ...RUN, token, probe });
  return { j: judge(result), probe: result.probe as P };
}

/** What the gateway's health endpoints answer (status and body). */
async function gatewayHealth(stack: ProcessStack) {
  const get = async (path: string) => {
    const res = await fetch(`${stack.gatewayUrl}${path}`, { signal: AbortSignal.timeout(30_000) });
    return { status: res.status, body: await res.text() };
  };
  return { live: await get('/health/live'), ready: await get('/health/ready') };
}

describe.each([
  ['without Redis', false],
  ['with sessions in Redis', true],
])('faults under a PortalView load, each service in its own process (%s)', (_label, withRedis) => {
  if (withRedis && skipWithoutRedis('faults with sessions in Redis (faults.e2e.test.ts)')) return;
  let stack: ProcessStack;
  let token: string;

  beforeAll(async () => {
    stack = await startProcessStack({
      databaseUrl: testDatabaseUrl(),
      redisUrl: withRedis ? testRedisUrl() : undefined,
      prefix: uniqueDatabasePrefix(),
      redisKeyPrefix: uniqueRedisKeyPrefix(),
      makeDataDir: () => testTempDir('portal-faults-'),
      env: ENV,
    });
    token = await signIn(stack.graphqlUrl, 'jane.doe', 'Demo-Password-1');
  }, 300_000);
  afterAll(() => stack?.stop(), 120_000);

  if (!withRedis) {
    // Needs r12a (partial answers, breaker) and r12b (drain on SIGTERM, so requests in flight are not cut).
    it('pharmacy stopped: the other sections still answer, prescriptions come back null with SERVICE_UNAVAILABLE', async () => {
      const { j, probe: health } = await run(stack, token, 'pharmacy-stopped', () => gatewayHealth(stack));
      expect({
        ...held(j),
        partialAnswers: j.partialDuringFault > 0,
        // Needs r12b: one optional subgraph down leaves the gateway live and ready, and it says which one is degraded.
        gateway: { live: health.live.status, ready: health.ready.status, namesPharmacy: health.ready.body.includes('pharmacy') },
      }).toEqual({ ...HELD, partialAnswers: true, gateway: { live: 200, ready: 200, namesPharmacy: true } });
    }, 180_000);

    // Needs r12a (per-subgraph timeout, breaker, partial answers).
    it('pharmacy hung: answers within the budget, partial while it hangs, full again after SIGCONT', async () => {
      const { j } = await run(stack, token, 'pharmacy-hung');
      expect({ ...held(j), partialAnswers: j.partialDuringFault > 0 }).toEqual({ ...HELD, partialAnswers: true });
    }, 180_000);

    // Needs r12b (last-good JWKS; 503, never 401, when a token cannot be checked).
    it('identity stopped: clean SERVICE_UNAVAILABLE (503 or per section), never "sign in again"', async () => {
      const signInQuery = portalOperation('SignInWithDsLogon');
      const { j, probe: signInAttempt } = await run(stack, token, 'identity-stopped', () =>
        send(stack.graphqlUrl, signInQuery, { username: 'jane.doe', password: 'Demo-Password-1' }, undefined, 30_000),
      );
      expect({
        ...held(j),
        // A sign-in while identity is away is refused as unavailable (a 503, or its field null with SERVICE_UNAVAILABLE).
        signInAttempt: { codes: signInAttempt.errors.map((e) => e.code), leak: signInAttempt.leak },
      }).toEqual({ ...HELD, signInAttempt: { codes: ['SERVICE_UNAVAILABLE'], leak: false } });
    }, 180_000);

    // Needs r12b (pool timeouts, driver errors as SERVICE_UNAVAILABLE) and r12a (per section). PostgreSQL project only.
    (testDatabaseUrl() ? it : it.skip)('PostgreSQL restarted: only clean errors while it is away, full answers once it is back', async () => {
      const { j } = await run(stack, token, 'postgres-restarted');
      expect(held(j)).toEqual(HELD);
    }, 180_000);
  } else {
    // Needs r12b (Redis faults as 503, reconnect without a restart).
    it('Redis stopped: session checks fail closed with a clean 503, and answers are full again once Redis is back', async () => {
      const { j } = await run(stack, token, 'redis-stopped');
      expect(held(j)).toEqual(HELD);
    }, 180_000);
  }
});
