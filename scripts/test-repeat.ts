/**
 * Runs Jest N times and reports every test that both passed and failed (a
 * flaky test), and every test that failed each time.
 *
 *   npm run test:repeat -- --times 10 subgraphs/pharmacy/src/outbox --maxWorkers=1
 *
 * Arguments other than `--times N` go to Jest (paths, -t, --maxWorkers, ...);
 * with no path it runs the whole suite. Each run runs each Jest project on its
 * own (`--selectProjects sqlite`, and `postgres` when TEST_DATABASE_URL is
 * set), so a test is told apart by database. Exits 1 if any test flaked or
 * failed, 2 on bad arguments.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { outcomesOfRun, tally, verdict, type JestJson, type Outcome } from './test-repeat-report';

const root = path.resolve(__dirname, '..');
const jestBin = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');

function parseArgs(argv: string[]): { times: number; jestArgs: string[] } {
  let times = 5;
  const jestArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = a === '--times' ? argv[++i] : a.startsWith('--times=') ? a.slice('--times='.length) : undefined;
    if (value === undefined) {
      jestArgs.push(a);
      continue;
    }
    times = Number(value);
    if (!Number.isInteger(times) || times < 1) {
      console.error(`--times needs a whole number of runs, at least 1 (got ${JSON.stringify(value)})`);
      process.exit(2);
    }
  }
  if (jestArgs.some((a) => a === '--selectProjects' || a.startsWith('--selectProjects='))) {
    console.error('test:repeat chooses the projects itself (sqlite, and postgres with TEST_DATABASE_URL): leave out --selectProjects');
    process.exit(2);
  }
  return { times, jestArgs };
}

function main(): void {
  const { times, jestArgs } = parseArgs(process.argv.slice(2));
  const projects = process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'test-repeat-'));
  const totals = new Map<string, Outcome>();
  try {
    for (let run = 1; run <= times; run++) {
      for (const project of projects) {
        const outputFile = path.join(dir, `run-${run}-${project}.json`);
        const started = Date.now();
        // --selectProjects takes every word after it (Jest's option is a list), so it comes last.
        const jest = spawnSync(process.execPath, [jestBin, ...jestArgs, '--json', `--outputFile=${outputFile}`, '--selectProjects', project], {
          cwd: root,
          stdio: ['ignore', 'ignore', 'pipe'],
          encoding: 'utf8',
          maxBuffer: 256 * 1024 * 1024,
        });
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        if (!fs.existsSync(outputFile)) {
          // Jest itself failed (bad arguments, no test found, a crash): every further run would too.
          console.error(jest.stderr.split('\n').slice(-30).join('\n'));
          console.error(`run ${run}/${times} [${project}]: Jest wrote no results (exit ${jest.status ?? jest.signal})`);
          process.exitCode = 1;
          return;
        }
        const outcomes = outcomesOfRun(project, JSON.parse(fs.readFileSync(outputFile, 'utf8')) as JestJson, root);
        tally(totals, outcomes);
        const tests = [...outcomes].filter(([k]) => !k.endsWith(' › (file)'));
        const failed = [...outcomes].filter(([, r]) => r !== 'passed').length;
        console.log(`run ${run}/${times} [${project}]: ${tests.length - tests.filter(([, r]) => r !== 'passed').length} passed, ${failed} failed (${seconds} s)`);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const { flaky, broken } = verdict(totals);
  const show = (title: string, list: [string, Outcome][]) => {
    if (list.length === 0) return;
    console.log(`\n${title}:`);
    for (const [key, o] of list) {
      console.log(`  ${key}: passed ${o.passed}, failed ${o.failed} of ${o.passed + o.failed} runs`);
      const first = o.firstFailure?.split('\n').filter((l) => !l.includes('node_modules')).slice(0, 12).join('\n    ');
      if (first) console.log(`    ${first}`);
    }
  };
  show('FLAKY (passed in some runs, failed in others)', flaky);
  show('FAILED in every run', broken);
  const count = [...totals.keys()].filter((k) => !k.endsWith(' › (file)')).length;
  console.log(`\n${times} run(s) of ${count} test(s) on ${projects.join(' and ')}: ${flaky.length} flaky, ${broken.length} failed every time`);
  if (flaky.length > 0 || broken.length > 0) process.exitCode = 1;
}

main();
