/**
 * The client contract as a persisted-operation manifest: every operation of
 * schema/operations/*.graphql, normalised (graphql-js `print`), with the
 * sha256 of that text as its id. Apollo's manifest format, so Apollo clients
 * and tools read it as is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Kind, parse, print, visit, type DefinitionNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { REPO_ROOT } from './subgraphs';

export const OPERATIONS_DIR = path.join(REPO_ROOT, 'schema', 'operations');
export const MANIFEST_FILE = path.join(OPERATIONS_DIR, 'manifest.json');

export interface ManifestOperation {
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

export interface OperationManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: ManifestOperation[];
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The operation with the fragments it uses, printed: the text whose hash identifies it. */
function normalised(op: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>): string {
  const used = new Map<string, FragmentDefinitionNode>();
  const collect = (node: DefinitionNode) =>
    visit(node, {
      FragmentSpread(spread) {
        const fragment = fragments.get(spread.name.value);
        if (fragment && !used.has(fragment.name.value)) {
          used.set(fragment.name.value, fragment);
          collect(fragment);
        }
      },
    });
  collect(op);
  return print({ kind: Kind.DOCUMENT, definitions: [op, ...[...used.values()].sort((a, b) => a.name.value.localeCompare(b.name.value))] });
}

/** Normalises a client's query text the way the manifest does; undefined when it does not parse. */
export function normaliseQuery(query: string, maxTokens: number): string | undefined {
  try {
    return print(parse(query, { noLocation: true, maxTokens }));
  } catch {
    return undefined;
  }
}

/** Builds the manifest from schema/operations/*.graphql, operations in file order. */
export function buildManifest(dir = OPERATIONS_DIR): OperationManifest {
  const operations: ManifestOperation[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort()) {
    const doc = parse(fs.readFileSync(path.join(dir, file), 'utf8'), { noLocation: true });
    const fragments = new Map(doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
    for (const def of doc.definitions) {
      if (def.kind !== Kind.OPERATION_DEFINITION) continue;
      if (!def.name) throw new Error(`${file}: every contract operation needs a name.`);
      const body = normalised(def, fragments);
      operations.push({ id: sha256(body), name: def.name.value, type: def.operation, body });
    }
  }
  return { format: 'apollo-persisted-query-manifest', version: 1, operations };
}

export const manifestText = (manifest: OperationManifest) => `${JSON.stringify(manifest, null, 2)}\n`;

export function readManifest(file = MANIFEST_FILE): OperationManifest {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as OperationManifest;
}
