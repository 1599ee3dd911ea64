import { outcomesOfRun, tally, verdict, type JestJson, type Outcome } from './test-repeat-report';

const run = (results: Record<string, 'passed' | 'failed'>, fileFailure?: string): JestJson => ({
  testResults: [
    {
      name: '/repo/a/x.test.ts',
      status: fileFailure || Object.values(results).includes('failed') ? 'failed' : 'passed',
      message: fileFailure ?? '',
      assertionResults: Object.entries(results).map(([fullName, status]) => ({ fullName, status, failureMessages: status === 'failed' ? [`${fullName} broke`] : [] })),
    },
  ],
});

it('tells a test that passed and failed (flaky) from one that failed every run, per project', () => {
  const totals = new Map<string, Outcome>();
  tally(totals, outcomesOfRun('sqlite', run({ steady: 'passed', flaky: 'failed', broken: 'failed' }), '/repo'));
  tally(totals, outcomesOfRun('sqlite', run({ steady: 'passed', flaky: 'passed', broken: 'failed' }), '/repo'));
  tally(totals, outcomesOfRun('postgres', run({ steady: 'passed', flaky: 'passed', broken: 'passed' }), '/repo'));
  const { flaky, broken } = verdict(totals);
  expect(flaky).toEqual([['sqlite › a/x.test.ts › flaky', { passed: 1, failed: 1, firstFailure: 'flaky broke' }]]);
  expect(broken).toEqual([['sqlite › a/x.test.ts › broken', { passed: 0, failed: 2, firstFailure: 'broken broke' }]]);
  expect(totals.get('postgres › a/x.test.ts › broken')).toEqual({ passed: 1, failed: 0 });
});

it('counts a file that failed outside its tests (a throwing beforeAll) as a failure of the file', () => {
  const totals = new Map<string, Outcome>();
  tally(totals, outcomesOfRun('sqlite', run({}, 'beforeAll: connection refused'), '/repo'));
  tally(totals, outcomesOfRun('sqlite', run({ only: 'passed' }), '/repo'));
  expect(verdict(totals).flaky).toEqual([['sqlite › a/x.test.ts › (file)', { passed: 1, failed: 1, firstFailure: 'beforeAll: connection refused' }]]);
});

it('reports nothing when every run passed', () => {
  const totals = new Map<string, Outcome>();
  for (let i = 0; i < 3; i++) tally(totals, outcomesOfRun('sqlite', run({ a: 'passed', b: 'passed' }), '/repo'));
  expect(verdict(totals)).toEqual({ flaky: [], broken: [] });
  expect(totals.get('sqlite › a/x.test.ts › a')).toEqual({ passed: 3, failed: 0 });
});
