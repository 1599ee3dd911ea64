import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, SUBGRAPHS } from './subgraphs';

/**
 * GraphQL Code Generator's plugins load ES modules that Jest's CommonJS runtime
 * cannot, so codegen runs in a child Node process (through tsx, as
 * `npm run codegen` does) and reports what it would write.
 */
async function codegenReport(): Promise<{ files: string[]; stale: string[]; resolverHeads: Record<string, string[]> }> {
  const script = `
    const path = require('node:path');
    const { generatedFiles, staleFiles, subgraphTypesFile } = require('./gateway/src/codegen');
    const { SUBGRAPHS, REPO_ROOT } = require('./gateway/src/subgraphs');
    (async () => {
      const files = await generatedFiles();
      const resolverHeads = Object.fromEntries(SUBGRAPHS.map(({ name }) => [name, (files.get(subgraphTypesFile(name)) || '').split('\\n').filter((l) => /^export type Resolvers<|^import type .* from '\\.\\.\\/(context|resolvers\\/mappers)';$/.test(l))]));
      process.stdout.write(JSON.stringify({ files: [...files.keys()].map((f) => path.relative(REPO_ROOT, f)), stale: await staleFiles(), resolverHeads }));
    })().catch((e) => { console.error(e); process.exit(1); });
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO_ROOT, maxBuffer: 1 << 20 });
  return JSON.parse(stdout);
}

describe('generated types', () => {
  let report: Awaited<ReturnType<typeof codegenReport>>;
  beforeAll(async () => {
    report = await codegenReport();
  });

  it('are what codegen makes of the committed SDL and documents (run `npm run codegen` when this fails)', () => {
    expect(report.stale).toEqual([]);
  });

  it('cover every subgraph, the client contract (tests and web app) and the FHIR export', () => {
    expect([...report.files].sort()).toEqual(
      [
        ...SUBGRAPHS.map((s) => path.join('subgraphs', s.name, 'src', 'generated', 'graphql.ts')),
        path.join('test', 'src', 'generated', 'operations.ts'),
        path.join('web', 'src', 'generated', 'operations.ts'),
        path.join('gateway', 'src', 'fhir', 'generated', 'operations.ts'),
      ].sort(),
    );
  });

  it('type each subgraph’s resolvers with its own context and the models its resolvers receive', () => {
    for (const { name } of SUBGRAPHS) {
      const heads = report.resolverHeads[name];
      expect(heads.some((l) => /^export type Resolvers<ContextType = \w+Context> = \{$/.test(l))).toBe(true);
      expect(heads.some((l) => l.endsWith("from '../context';"))).toBe(true);
      expect(heads.some((l) => l.endsWith("from '../resolvers/mappers';"))).toBe(true);
    }
  });
});
