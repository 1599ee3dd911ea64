/**
 * The packages' boundaries: code and tests reach another workspace package only through its
 * public entry points, `@portal/<pkg>` and (tests and test helpers only) `@portal/<pkg>/testing`;
 * never `@portal/<pkg>/src/...` or any other deep path, and never a relative path out of their own
 * package (into `scripts/` or another package's files); scripts likewise never import a package's
 * files by relative path (`../gateway/src/...`). Production code never imports a `testing` or
 * `tooling` entry point: the build runs without them (`npm ci --omit=dev`, the smoke test).
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const WORKSPACES: string[] = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).workspaces;

/** Every module specifier of a source file: static and dynamic imports, re-exports, require, jest.mock. */
export function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s+['"]([^'"]+)['"]/g, /\b(?:import|require|jest\.mock|jest\.requireActual)\s*\(\s*['"]([^'"]+)['"]/g];
  for (const pattern of patterns) for (const m of source.matchAll(pattern)) found.push(m[1]);
  return found;
}

/**
 * The entry points besides a package's main one: `testing` (tests and test helpers) and
 * `tooling` (the gateway's build-time tools, for scripts/ and tests). Production code of
 * a package imports neither: they pull in what a production install does not have.
 */
const ENTRY_POINTS = ['testing', 'tooling'];

const isTestFile = (file: string) => /\.test\.ts$/.test(file) || /(^|\/)(testing|factories|test[A-Z][A-Za-z]*)\.ts$/.test(file) || /(^|\/)test\//.test(file);

/**
 * What is wrong with the imports of `file` (a path relative to the repository root), which lives in the
 * workspace `workspace` (a path such as `subgraphs/kit`), or in none (`scripts/`: undefined).
 */
export function importViolations(file: string, source: string, workspace: string | undefined): string[] {
  const problems: string[] = [];
  for (const spec of specifiers(source)) {
    const scoped = /^@portal\/([a-z-]+)(?:\/(.*))?$/.exec(spec);
    if (scoped) {
      const sub = scoped[2];
      if (sub !== undefined && !ENTRY_POINTS.includes(sub)) problems.push(`${file}: '${spec}' reaches past @portal/${scoped[1]}'s entry points (use '@portal/${scoped[1]}' or '@portal/${scoped[1]}/testing')`);
      else if (sub !== undefined && workspace !== undefined && !isTestFile(file)) problems.push(`${file}: production code imports the ${sub} entry point '${spec}'`);
      continue;
    }
    if (!spec.startsWith('.')) continue;
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
    if (workspace === undefined) {
      // A script reaches a package only through its entry points, never by a path into its files.
      const into = WORKSPACES.find((w) => target === w || target.startsWith(`${w}/`));
      if (into) problems.push(`${file}: '${spec}' reaches into the package ${into} by path (import it through a public entry point)`);
    } else if (target !== workspace && !target.startsWith(`${workspace}/`)) {
      problems.push(`${file}: '${spec}' leaves the package ${workspace} (import it through a public entry point)`);
    }
  }
  return problems;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    if (['node_modules', 'dist', '.stryker-tmp'].includes(entry.name)) continue;
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.(ts|js)$/.test(entry.name)) out.push(rel);
  }
  return out;
}

describe('imports between packages', () => {
  test('the rule catches deep paths, escapes into scripts/ and test entry points in production code', () => {
    expect(importViolations('test/src/a.e2e.test.ts', "import { x } from '@portal/kit/src/testing';", 'test')).toHaveLength(1);
    expect(importViolations('test/src/a.e2e.test.ts', "const { y } = await import('@portal/identity/src/services/passwords');", 'test')).toHaveLength(1);
    expect(importViolations('test/src/a.e2e.test.ts', "import { load } from '../../scripts/chaos/load';", 'test')).toHaveLength(1);
    expect(importViolations('gateway/src/a.ts', "import { x } from '../../subgraphs/kit/src/db';", 'gateway')).toHaveLength(1);
    expect(importViolations('subgraphs/identity/src/module.ts', "import { gql } from '@portal/kit/testing';", 'subgraphs/identity')).toHaveLength(1);
    expect(importViolations('scripts/bench.ts', "import { SESSION_MAX_SECONDS } from '@portal/kit/src/auth/sessions';", undefined)).toHaveLength(1);
    // A script reaching into a package's sources by relative path, however deep it sits in scripts/.
    expect(importViolations('scripts/compose.ts', "import { composeSupergraph } from '../gateway/src/compose';", undefined)).toHaveLength(1);
    expect(importViolations('scripts/chaos/load.ts', "import { gql } from '../../subgraphs/kit/src/testing';", undefined)).toHaveLength(1);
    expect(importViolations('scripts/chaos/load.ts', "const { x } = require('../../server/src/stack');", undefined)).toHaveLength(1);
    expect(importViolations('gateway/src/server.ts', "import { generatedFiles } from '@portal/gateway/tooling';", 'gateway')).toHaveLength(1);
    // What is allowed: entry points, test entry points from tests, relative imports within the package.
    expect(
      importViolations(
        'subgraphs/identity/src/services/sessions.test.ts',
        "import { openRedis } from '@portal/kit';\nimport { gql } from '@portal/kit/testing';\nimport { x } from '../smartcard/pki';\nimport fs from 'node:fs';",
        'subgraphs/identity',
      ),
    ).toEqual([]);
    expect(importViolations('scripts/chaos/faults.e2e.test.ts', "import { send } from './load';\nimport { gql } from '@portal/kit/testing';", undefined)).toEqual([]);
    expect(importViolations('scripts/compose.ts', "import { composeSupergraph } from '@portal/gateway/tooling';\nimport { run } from './chaos/run';", undefined)).toEqual([]);
  });

  test('no file of the repository imports past a package entry point or out of its package', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const workspace of WORKSPACES) {
      for (const file of sourceFiles(workspace)) {
        problems.push(...importViolations(file, fs.readFileSync(path.join(ROOT, file), 'utf8'), workspace));
        checked++;
      }
    }
    for (const file of sourceFiles('scripts')) {
      if (file === 'scripts/imports.test.ts') continue; // its own examples
      problems.push(...importViolations(file, fs.readFileSync(path.join(ROOT, file), 'utf8'), undefined));
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });

  test('the kit imports no other package of the project (it knows no domain: the demo cast lives in @portal/demo)', () => {
    const kitImports = sourceFiles('subgraphs/kit').flatMap((file) => specifiers(fs.readFileSync(path.join(ROOT, file), 'utf8')).filter((s) => s.startsWith('@portal/') && !s.startsWith('@portal/kit')).map((s) => `${file}: ${s}`));
    expect(kitImports).toEqual([]);
  });
});
