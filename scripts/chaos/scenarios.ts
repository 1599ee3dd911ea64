/**
 * The faults, each injected under a steady PortalView load and then healed:
 * what each should cost (its expectation) and what a run of it measured.
 * The fault tests run them for a few seconds each; `npm run chaos` for longer.
 */
import { PortalLoad, sleep, type Sample } from './load';
import type { ProcessStack } from './processStack';

export interface Scenario {
  name: string;
  /** What is done, for the table. */
  title: string;
  /** Only some faults apply to a stack: a PostgreSQL restart needs PostgreSQL, a Redis stop Redis. */
  applies(stack: ProcessStack): boolean;
  inject(stack: ProcessStack): Promise<void>;
  /** Ends the fault; resolves once what was stopped answers again. */
  heal(stack: ProcessStack): Promise<void>;
  /**
   * The PortalView sections a partial answer may lack during this fault (each
   * error's path lies under one of them); empty when the whole view may go.
   */
  sections: string[];
  /** A clean refusal (HTTP 503, every error SERVICE_UNAVAILABLE) is an acceptable answer during this fault. */
  refusalAllowed: boolean;
  /** At least one partial answer is expected while the fault lasts (a section really went missing). */
  expectsPartial: boolean;
}

/** The pharmacy subgraph's section of PortalView. */
const PHARMACY = ['me.patient.prescriptions'];

export const SCENARIOS: Scenario[] = [
  {
    name: 'pharmacy-stopped',
    title: 'pharmacy stopped (SIGTERM), then started again',
    applies: () => true,
    inject: (stack) => stack.services.pharmacy.stop('SIGTERM'),
    heal: (stack) => stack.services.pharmacy.start(),
    sections: PHARMACY,
    refusalAllowed: false,
    expectsPartial: true,
  },
  {
    name: 'pharmacy-hung',
    title: 'pharmacy hung (SIGSTOP), then continued (SIGCONT)',
    applies: () => true,
    inject: async (stack) => stack.services.pharmacy.pause(),
    heal: async (stack) => stack.services.pharmacy.resume(),
    sections: PHARMACY,
    refusalAllowed: false,
    expectsPartial: true,
  },
  {
    name: 'identity-stopped',
    title: 'identity stopped (SIGTERM), then started again',
    applies: () => true,
    inject: (stack) => stack.services.identity.stop('SIGTERM'),
    heal: (stack) => stack.services.identity.start(),
    // `me` is identity's: with identity gone the whole view may go, but as "unavailable", never as "sign in again".
    sections: [],
    refusalAllowed: true,
    expectsPartial: false,
  },
  {
    name: 'postgres-restarted',
    title: 'PostgreSQL restarted (every connection cut, refused a while, then back)',
    applies: (stack) => !!stack.postgresProxy,
    inject: async (stack) => stack.postgresProxy!.cut(),
    heal: async (stack) => stack.postgresProxy!.restore(),
    sections: [],
    refusalAllowed: true,
    expectsPartial: false,
  },
  {
    name: 'redis-stopped',
    title: 'Redis stopped (every connection cut, refused a while, then back)',
    applies: (stack) => !!stack.redisProxy,
    inject: async (stack) => stack.redisProxy!.cut(),
    heal: async (stack) => stack.redisProxy!.restore(),
    // Sessions fail closed: no session check, no answer, but a clean 503.
    sections: [],
    refusalAllowed: true,
    expectsPartial: false,
  },
];

export interface RunOptions {
  token: string;
  clients: number;
  pauseMs: number;
  requestTimeoutMs: number;
  /** Load before the fault, to see the stack answer in full first. */
  beforeMs: number;
  /** How long the fault lasts (before healing starts). */
  faultMs: number;
  /** How long after the heal a full answer may take before the run counts as not recovered. */
  recoveryTimeoutMs: number;
  /** Load kept up after recovery, to see that full answers stay. */
  afterMs: number;
  /** Called once half-way through the fault, e.g. to see what health probes say then; its answer is the result's `probe`. */
  probe?: () => Promise<unknown>;
}

export interface ScenarioResult {
  scenario: Scenario;
  samples: Sample[];
  /** Epoch ms: fault injected; heal begun; heal done (the service answers again / the line is back). */
  injectedAt: number;
  healStartedAt: number;
  healedAt: number;
  /** From the heal done to the first full answer to a request sent after it; undefined when none came in time. */
  recoveryMs?: number;
  /** What `options.probe` answered during the fault. */
  probe?: unknown;
}

/**
 * Runs one scenario under load and heals it whatever happens, so the stack is
 * whole again for the next one (unless the heal itself fails, which throws).
 */
export async function runScenario(stack: ProcessStack, scenario: Scenario, options: RunOptions): Promise<ScenarioResult> {
  const load = new PortalLoad({ graphqlUrl: stack.graphqlUrl, token: options.token, clients: options.clients, pauseMs: options.pauseMs, requestTimeoutMs: options.requestTimeoutMs });
  load.start();
  let injectedAt = 0;
  let healStartedAt = 0;
  let healedAt = 0;
  let recoveryMs: number | undefined;
  let probe: unknown;
  try {
    const loadStartedAt = Date.now();
    await sleep(options.beforeMs);
    // A fault injected into a stack that is not whole (a previous scenario that did not recover) would prove nothing.
    if (!(await load.fullAnswerSince(loadStartedAt, options.recoveryTimeoutMs))) throw new Error(`${scenario.name}: no full answer before the fault; the stack is not whole`);
    injectedAt = Date.now();
    try {
      await scenario.inject(stack);
      const faultBegan = Date.now();
      await sleep(options.faultMs / 2);
      if (options.probe) probe = await options.probe();
      await sleep(Math.max(0, options.faultMs - (Date.now() - faultBegan)));
    } finally {
      healStartedAt = Date.now();
      await scenario.heal(stack);
      healedAt = Date.now();
    }
    if (await load.fullAnswerSince(healedAt, options.recoveryTimeoutMs)) {
      const first = load.samples.filter((s) => s.start >= healedAt && s.outcome === 'full').sort((a, b) => a.end - b.end)[0];
      recoveryMs = first.end - healedAt;
      await sleep(options.afterMs);
    }
  } finally {
    await load.stop();
  }
  return { scenario, samples: load.samples, injectedAt, healStartedAt, healedAt, recoveryMs, probe };
}

export interface Judgement {
  sent: number;
  full: number;
  partial: number;
  failed: number;
  /** Failed answers by kind (`HTTP 503 SERVICE_UNAVAILABLE: 12`). */
  failures: Record<string, number>;
  longestWaitMs: number;
  recoveryMs?: number;
  /** Answers during the fault (or in flight when it began) that the scenario's expectation does not allow, by kind. */
  violations: Record<string, number>;
  /** Answers to requests sent while the fault lasted (from injection to heal done). */
  duringFault: number;
  partialDuringFault: number;
  /** Answers to requests sent after recovery that were not full. */
  notFullAfterRecovery: number;
  /** Answers that told Jane, whose token is valid throughout, to sign in again (401 or UNAUTHENTICATED). */
  unauthenticated: number;
}

/** Sums a run up and checks every answer against the scenario's expectation. */
export function judge(result: ScenarioResult): Judgement {
  const { scenario, samples } = result;
  const count = (outcome: Sample['outcome']) => samples.filter((s) => s.outcome === outcome).length;
  const failures: Record<string, number> = {};
  for (const s of samples) if (s.outcome === 'failed') failures[s.kind] = (failures[s.kind] ?? 0) + 1;
  const recoveredAt = result.recoveryMs === undefined ? Infinity : result.healedAt + result.recoveryMs;
  // Everything in flight from the injection until recovery must be an answer the fault allows.
  const affected = samples.filter((s) => s.end >= result.injectedAt && s.start < recoveredAt);
  const violations: Record<string, number> = {};
  for (const s of affected) {
    const why = violation(scenario, s);
    if (why) violations[why] = (violations[why] ?? 0) + 1;
  }
  const during = samples.filter((s) => s.start >= result.injectedAt && s.start < result.healedAt);
  const after = samples.filter((s) => s.start >= recoveredAt);
  return {
    sent: samples.length,
    full: count('full'),
    partial: count('partial'),
    failed: count('failed'),
    failures,
    longestWaitMs: Math.max(0, ...samples.map((s) => s.end - s.start)),
    recoveryMs: result.recoveryMs,
    violations,
    duringFault: during.length,
    partialDuringFault: during.filter((s) => s.outcome === 'partial').length,
    notFullAfterRecovery: after.filter((s) => s.outcome !== 'full').length,
    unauthenticated: samples.filter((s) => s.status === 401 || s.errors.some((e) => e.code === 'UNAUTHENTICATED')).length,
  };
}

/** Why an answer during the fault is not one the scenario allows; undefined when it is. */
function violation(scenario: Scenario, s: Sample): string | undefined {
  if (s.leak) return `internal detail in an error (${s.kind})`;
  if (s.outcome === 'full') return undefined;
  if (s.outcome === 'partial') {
    if (!scenario.sections.length) return undefined;
    const outside = s.errors.filter((e) => !scenario.sections.some((section) => e.path === section || e.path!.startsWith(`${section}.`)));
    if (outside.length) return `partial, but an error outside ${scenario.sections.join(', ')}: ${outside.map((e) => e.path).join(', ')}`;
    const lost = s.missing.filter((m) => !scenario.sections.some((section) => m === section || m.startsWith(`${section}.`)));
    if (lost.length) return `partial, but sections of other subgraphs missing: ${lost.join(', ')}`;
    return undefined;
  }
  if (scenario.refusalAllowed && s.status === 503 && s.errors.length > 0 && s.errors.every((e) => e.code === 'SERVICE_UNAVAILABLE')) return undefined;
  return `failed: ${s.kind}`;
}

const seconds = (ms: number | undefined) => (ms === undefined ? 'not recovered' : `${(ms / 1000).toFixed(1)} s`);

/** The chaos table: one row per scenario. */
export function table(rows: { result: ScenarioResult; judgement: Judgement }[]): string {
  const header = ['scenario', 'sent', 'full', 'partial', 'failed', 'longest wait', 'time to recover'];
  const lines = rows.map(({ result, judgement: j }) => [
    result.scenario.name,
    String(j.sent),
    String(j.full),
    String(j.partial),
    String(j.failed),
    seconds(j.longestWaitMs),
    seconds(j.recoveryMs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [row(header), `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...lines.map(row)].join('\n');
}
