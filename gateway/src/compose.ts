import fs from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse, type GraphQLSchema } from 'graphql';
import { Supergraph } from '@apollo/federation-internals';
import { SUBGRAPHS, schemaFileOf } from './subgraphs';

/**
 * Composes the committed supergraph from each subgraph's SDL. The URLs are the
 * development defaults; the gateway replaces them with its configured ones.
 */
export function composeSupergraph(): string {
  return composeFrom(SUBGRAPHS.map((s) => ({ name: s.name, url: routingUrlOf(s), file: schemaFileOf(s.name) })));
}

/** The routing URL the committed supergraph names for a subgraph (supergraph.yaml's `routing_url`). */
export const routingUrlOf = (s: { port: number }) => `http://localhost:${s.port}/graphql`;

/** Composes subgraphs given by name, routing URL and SDL file, as `npm run compose` and Rover's supergraph.yaml do. */
export function composeFrom(subgraphs: { name: string; url: string; file: string }[]): string {
  const result = composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(fs.readFileSync(s.file, 'utf8')) })));
  if (result.errors) {
    throw new Error(`Composition failed:\n${result.errors.map((e) => `- ${e.message}`).join('\n')}`);
  }
  return result.supergraphSdl.trimEnd() + '\n';
}

/** The client-facing schema of a supergraph (what operations are validated against). */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
}
