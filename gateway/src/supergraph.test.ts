import fs from 'node:fs';
import path from 'node:path';
import { parse, validate, type OperationDefinitionNode } from 'graphql';
import { apiSchemaOf, composeSupergraph } from './compose';
import { REPO_ROOT, SUPERGRAPH_FILE } from './subgraphs';

const supergraph = fs.readFileSync(SUPERGRAPH_FILE, 'utf8');
const operationsDir = path.join(REPO_ROOT, 'schema', 'operations');
const operations = fs
  .readdirSync(operationsDir)
  .filter((f) => f.endsWith('.graphql'))
  .flatMap((f) => parse(fs.readFileSync(path.join(operationsDir, f), 'utf8')).definitions)
  .filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');

describe('schema/supergraph.graphql', () => {
  it('is what the subgraphs’ SDL composes to (run `npm run compose` when this fails)', () => {
    expect(supergraph).toBe(composeSupergraph());
  });
});

describe('client operations in schema/operations', () => {
  const api = apiSchemaOf(supergraph);

  it('are all named, and none twice', () => {
    const names = operations.map((o) => o.name?.value);
    expect(names.every(Boolean)).toBe(true);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThanOrEqual(30);
  });

  // Every operation of the contract validates: none is pending any more.
  it.each(operations.map((o) => [o.name!.value, o] as const))('%s validates against the supergraph', (_, op) => {
    expect(validate(api, { kind: 'Document' as never, definitions: [op] }).map((e) => e.message)).toEqual([]);
  });

  it('matches the contract copy in ../shared/contract when it is there', () => {
    const contract = path.join(REPO_ROOT, '..', 'shared', 'contract', 'portal.graphql');
    if (!fs.existsSync(contract)) return;
    expect(fs.readFileSync(path.join(operationsDir, 'portal.graphql'), 'utf8')).toBe(fs.readFileSync(contract, 'utf8'));
  });
});
