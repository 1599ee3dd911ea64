/**
 * The arithmetic of `npm run test:repeat`: which tests passed in some runs and
 * failed in others. Pure functions over Jest's `--json` results, so they have
 * a unit test of their own (test-repeat-report.test.ts).
 */
import path from 'node:path';

/** The part of Jest's `--json` output this report reads. */
export interface JestJson {
  testResults: {
    name: string;
    status: string;
    message?: string;
    assertionResults: { fullName: string; status: string; failureMessages?: string[] }[];
  }[];
}

export interface Outcome {
  passed: number;
  failed: number;
  /** The first failure message seen, for the report. */
  firstFailure?: string;
}

/** One run's results, keyed `project › file › test`; a file that failed outside any test counts as `file › (file)`. */
export function outcomesOfRun(project: string, json: JestJson, root: string): Map<string, 'passed' | 'failed' | { failed: string }> {
  const out = new Map<string, 'passed' | 'failed' | { failed: string }>();
  for (const file of json.testResults) {
    const rel = path.relative(root, file.name);
    let failedTests = 0;
    for (const a of file.assertionResults) {
      const key = `${project} › ${rel} › ${a.fullName}`;
      if (a.status === 'passed') out.set(key, 'passed');
      else if (a.status === 'failed') {
        failedTests++;
        out.set(key, { failed: (a.failureMessages ?? []).join('\n') });
      }
    }
    // A file can fail with no failed test: its beforeAll or afterAll threw, or it did not compile.
    const fileKey = `${project} › ${rel} › (file)`;
    if (file.status === 'failed' && failedTests === 0) out.set(fileKey, { failed: file.message ?? '' });
    else out.set(fileKey, 'passed');
  }
  return out;
}

/** Adds one run's outcomes to the running totals. */
export function tally(totals: Map<string, Outcome>, run: Map<string, 'passed' | 'failed' | { failed: string }>): void {
  for (const [key, result] of run) {
    const t = totals.get(key) ?? { passed: 0, failed: 0 };
    if (result === 'passed') t.passed++;
    else {
      t.failed++;
      if (t.firstFailure === undefined && typeof result === 'object') t.firstFailure = result.failed;
    }
    totals.set(key, t);
  }
}

/** Tests that both passed and failed (flaky), and tests that failed every time they ran. */
export function verdict(totals: Map<string, Outcome>): { flaky: [string, Outcome][]; broken: [string, Outcome][] } {
  const flaky: [string, Outcome][] = [];
  const broken: [string, Outcome][] = [];
  for (const entry of [...totals].sort(([a], [b]) => a.localeCompare(b))) {
    const [, o] = entry;
    if (o.failed > 0 && o.passed > 0) flaky.push(entry);
    else if (o.failed > 0) broken.push(entry);
  }
  return { flaky, broken };
}
