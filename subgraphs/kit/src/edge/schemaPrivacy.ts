import { GraphQLError, Kind, type GraphQLFieldResolver, type GraphQLFormattedError, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import { DocumentMeter, type DocumentLimits } from './documentLimits';
import { forbidden, unauthenticated } from '../errors';

const SUGGESTION = / ?Did you mean [^?]*\?/g;

/** Drops graphql-js's "Did you mean ...?" hints, which map the schema for anyone who guesses near it. */
export function withoutSuggestions(formatted: GraphQLFormattedError): GraphQLFormattedError {
  // `includes`, not SUGGESTION.test: a global regex's test() keeps state between calls.
  return formatted.message.includes('Did you mean') ? { ...formatted, message: formatted.message.replace(SUGGESTION, '') } : formatted;
}

const badRequest = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });

function operationCost(info: GraphQLResolveInfo, limits: DocumentLimits): number {
  const document = { kind: Kind.DOCUMENT, definitions: [info.operation, ...Object.values(info.fragments)] } as const;
  return new DocumentMeter(document, info.schema, { ...limits, maxCost: Number.MAX_SAFE_INTEGER }).measure(info.operation).cost;
}

interface GuardedViewer {
  viewer: { role: string } | null;
}

/**
 * Guards the federation fields of a subgraph schema, in place:
 * - `_service { sdl }` answers only service tokens (the gateway serves the
 *   committed supergraph and never asks for it at run time);
 * - `_entities` takes at most `maxEntities` representations per call, and
 *   the operation's cost (which counts each representation once) times their
 *   number stays within the cost limit.
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
      if (count * operationCost(info, limits) > limits.maxCost) {
        throw badRequest(`These ${count} representations would resolve more than ${limits.maxCost} fields; send fewer at a time.`);
      }
      return resolve(source, args, context, info);
    };
  }
  return schema;
}

