import path from 'node:path';

/** The five subgraphs, their default ports and where their SDL lives. */
export const SUBGRAPHS = [
  { name: 'identity', port: 4001 },
  { name: 'scheduling', port: 4002 },
  { name: 'messaging', port: 4003 },
  { name: 'pharmacy', port: 4004 },
  { name: 'clinical-records', port: 4005 },
] as const;

export type SubgraphName = (typeof SUBGRAPHS)[number]['name'];

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const SUPERGRAPH_FILE = path.join(REPO_ROOT, 'schema', 'supergraph.graphql');
export const schemaFileOf = (name: SubgraphName) => path.join(REPO_ROOT, 'subgraphs', name, 'schema.graphql');
