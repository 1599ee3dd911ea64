import { GraphQLError, Kind, type FieldNode, type GraphQLFieldResolver, type GraphQLFormattedError, type GraphQLResolveInfo, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { DocumentMeter, type DocumentLimits } from './documentLimits';
import { forbidden, unauthenticated } from '../errors';

const SUGGESTION = / ?Did you mean [^?]*\?/g;

/** Drops graphql-js's "Did you mean ...?" hints, which map the schema for anyone who guesses near it. */
export function withoutSuggestions(formatted: GraphQLFormattedError): GraphQLFormattedError {
  // `includes`, not SUGGESTION.test: a global regex's test() keeps state between calls.
  return formatted.message.includes('Did you mean') ? { ...formatted, message: formatted.message.replace(SUGGESTION, '') } : formatted;
}

const badRequest = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });

/** The cost of one `_entities` field, remembered by its syntax node (Apollo caches parsed documents, so the next request with the same text asks again with the same node). */
const FIELD_COSTS = new WeakMap<FieldNode, number>();

/**
 * What this `_entities` field costs for one representation: the field alone,
 * as an operation of its own, so that the gateway's merged requests (several
 * aliased `_entities` of one level, see gateway/src/fetchWaves.ts) are each
 * judged as they would be alone.
 */
function fieldCost(info: GraphQLResolveInfo, limits: DocumentLimits): number {
  const node = info.fieldNodes[0];
  let cost = info.fieldNodes.length === 1 ? FIELD_COSTS.get(node) : undefined;
  if (cost === undefined) {
    const operation = { ...info.operation, selectionSet: { kind: Kind.SELECTION_SET, selections: info.fieldNodes } } as OperationDefinitionNode;
    const document = { kind: Kind.DOCUMENT, definitions: [operation, ...Object.values(info.fragments)] } as const;
    cost = new DocumentMeter(document, info.schema, { ...limits, maxCost: Number.MAX_SAFE_INTEGER }).measure(operation).cost;
    if (info.fieldNodes.length === 1) FIELD_COSTS.set(node, cost);
  }
  return cost;
}

interface GuardedViewer {
  viewer: { role: string } | null;
}

/**
 * Guards the federation fields of a subgraph schema, in place:
 * - `_service { sdl }` answers only service tokens (the gateway serves the
 *   committed supergraph and never asks for it at run time);
 * - `_entities` takes at most `maxEntities` representations per call, and
 *   the field's cost (which counts each representation once) times their
 *   number stays within the cost limit; each `_entities` of an operation is
 *   judged on its own (the gateway merges a plan level's into one operation).
 * Resolver wrappers catch every way of reaching the fields (aliases, fragments).
 */
export function guardFederationFields(schema: GraphQLSchema, maxEntities: number, limits: DocumentLimits): GraphQLSchema {
  const fields = schema.getQueryType()?.getFields() ?? {};
  const service = fields._service;
  if (service) {
    const resolve: GraphQLFieldResolver<unknown, GuardedViewer> = service.resolve ?? ((source) => source);
    service.resolve = (source, args, context, info) => {
      const viewer = context.viewer;
      if (!viewer) throw unauthenticated('The schema of a subgraph is for services: send a service token.');
      if (viewer.role !== 'SERVICE') throw forbidden('The schema of a subgraph is for services only.');
      return resolve(source, args, context, info);
    };
  }
  const entities = fields._entities;
  if (entities?.resolve) {
    const resolve = entities.resolve;
    entities.resolve = (source, args: { representations?: unknown[] }, context, info) => {
      const count = Array.isArray(args.representations) ? args.representations.length : 0;
      if (count > maxEntities) throw badRequest(`One _entities call takes at most ${maxEntities} representations (got ${count}).`);
      if (count * fieldCost(info, limits) > limits.maxCost) {
        throw badRequest(`These ${count} representations would resolve more than ${limits.maxCost} fields; send fewer at a time.`);
      }
      return resolve(source, args, context, info);
    };
  }
  return schema;
}

