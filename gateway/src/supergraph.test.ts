import fs from 'node:fs';
import path from 'node:path';
import { parse, validate, visit, type ASTNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { apiSchemaOf, composeSupergraph } from './compose';
import { REPO_ROOT, SUPERGRAPH_FILE } from './subgraphs';

const supergraph = fs.readFileSync(SUPERGRAPH_FILE, 'utf8');
const operationsDir = path.join(REPO_ROOT, 'schema', 'operations');
const committedContract = path.join(operationsDir, 'portal.graphql');
const definitions = fs
  .readdirSync(operationsDir)
  .filter((f) => f.endsWith('.graphql'))
  .flatMap((f) => parse(fs.readFileSync(path.join(operationsDir, f), 'utf8')).definitions);
const operations = definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
/** Fragments of the operation files, by name: an operation validates with the ones it spreads. */
const fragments = new Map(definitions.filter((d): d is FragmentDefinitionNode => d.kind === 'FragmentDefinition').map((f) => [f.name.value, f]));

/** The fragments `node` spreads, and theirs in turn. */
function fragmentsOf(node: ASTNode, found = new Map<string, FragmentDefinitionNode>()): FragmentDefinitionNode[] {
  visit(node, {
    FragmentSpread(spread) {
      const f = fragments.get(spread.name.value);
      if (f && !found.has(f.name.value)) {
        found.set(f.name.value, f);
        fragmentsOf(f, found);
      }
    },
  });
  return [...found.values()];
}

describe('schema/supergraph.graphql', () => {
  it('is what the subgraphs’ SDL composes to (run `npm run compose` when this fails)', () => {
    expect(supergraph).toBe(composeSupergraph());
  });
});

describe('client operations in schema/operations', () => {
  const api = apiSchemaOf(supergraph);

  it('are all named, and none twice', () => {
    const names = operations.map((o) => o.name?.value);
    expect(names.length).toBeGreaterThan(0);
    expect(names.every(Boolean)).toBe(true);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThanOrEqual(30);
  });

  // Every operation of the contract validates: none is pending any more.
  it.each(operations.map((o) => [o.name!.value, o] as const))('%s validates against the supergraph', (_, op) => {
    expect(validate(api, { kind: 'Document' as never, definitions: [op, ...fragmentsOf(op)] }).map((e) => e.message)).toEqual([]);
  });

  it('include the committed copy of the contract, schema/operations/portal.graphql', () => {
    expect(fs.existsSync(committedContract) ? 'present' : `missing: ${committedContract}`).toBe('present');
    expect(operations.filter((o) => o.loc?.source.body === fs.readFileSync(committedContract, 'utf8')).length).toBeGreaterThanOrEqual(30);
  });

  it('are the contract: the committed copy equals shared/contract/portal.graphql beside the repository', () => {
    const contract = findContract();
    if (!contract.found) {
      throw new Error(
        `The client contract was not found: looked for ${contract.tried.join(', ')}. ` +
          'Put the shared/ folder beside the repository (as CI does), or set PORTAL_CONTRACT_DIR to the folder holding portal.graphql.',
      );
    }
    expect(fs.readFileSync(committedContract, 'utf8')).toBe(fs.readFileSync(contract.found, 'utf8'));
  });
});

/**
 * shared/contract/portal.graphql in the nearest folder above the repository
 * that has one: beside a clone (`<dir>/repo` and `<dir>/shared`), or further up
 * for a git worktree (`<dir>/wt/<name>`). PORTAL_CONTRACT_DIR names it directly.
 */
function findContract(): { found?: string; tried: string[] } {
  if (process.env.PORTAL_CONTRACT_DIR) {
    const file = path.join(process.env.PORTAL_CONTRACT_DIR, 'portal.graphql');
    return { found: fs.existsSync(file) ? file : undefined, tried: [file] };
  }
  const tried: string[] = [];
  for (let dir = path.dirname(REPO_ROOT); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'shared', 'contract', 'portal.graphql');
    tried.push(file);
    if (fs.existsSync(file)) return { found: file, tried };
    if (path.dirname(dir) === dir) return { tried };
  }
}
