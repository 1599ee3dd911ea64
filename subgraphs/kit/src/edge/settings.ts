import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from './documentLimits';
import { parseSettings, type SettingName, type Settings } from '../settings';

/** How much one request may ask of a server, and which browsers may call it. */
export interface EdgeSettings {
  document: DocumentLimits;
  /** Request body, decided from Content-Length when sent, else while reading. */
  maxBodyBytes: number;
  /** The `query` text of one request. */
  maxQueryChars: number;
  /** The `variables` of one request, as JSON. */
  maxVariablesBytes: number;
  /** A GraphQL answer larger than this is replaced by a RESPONSE_TOO_LARGE error. */
  maxResponseBytes: number;
  /** Representations in one `_entities` call at a subgraph. */
  maxEntities: number;
  /** Exact origins (scheme://host[:port]) whose browser apps may call the gateway. */
  corsOrigins: string[];
  /** The gateway answers only the operations of schema/operations/manifest.json. */
  trustedDocuments: boolean;
}

export const DEFAULT_EDGE_SETTINGS: EdgeSettings = {
  document: DEFAULT_DOCUMENT_LIMITS,
  maxBodyBytes: 1_000_000,
  maxQueryChars: 20_000,
  maxVariablesBytes: 256_000,
  maxResponseBytes: 10_000_000,
  maxEntities: 1_000,
  corsOrigins: [],
  trustedDocuments: false,
};

export const EDGE_SETTING_NAMES = [
  'GRAPHQL_MAX_DEPTH',
  'GRAPHQL_MAX_ALIASES',
  'GRAPHQL_MAX_ROOT_FIELDS',
  'GRAPHQL_MAX_DIRECTIVES',
  'GRAPHQL_MAX_TOKENS',
  'GRAPHQL_MAX_COST',
  'GRAPHQL_LIST_SIZE',
  'HTTP_MAX_BODY_BYTES',
  'GRAPHQL_MAX_QUERY_CHARS',
  'GRAPHQL_MAX_VARIABLES_BYTES',
  'HTTP_MAX_RESPONSE_BYTES',
  'GRAPHQL_MAX_ENTITIES',
  'CORS_ORIGINS',
  'TRUSTED_DOCUMENTS',
] as const satisfies readonly SettingName[];

/** The edge settings out of settings already checked against the schema. */
export function edgeSettingsOf(s: Pick<Settings, (typeof EDGE_SETTING_NAMES)[number]>): EdgeSettings {
  return {
    document: {
      maxDepth: s.GRAPHQL_MAX_DEPTH,
      maxAliases: s.GRAPHQL_MAX_ALIASES,
      maxRootFields: s.GRAPHQL_MAX_ROOT_FIELDS,
      maxDirectives: s.GRAPHQL_MAX_DIRECTIVES,
      maxTokens: s.GRAPHQL_MAX_TOKENS,
      maxCost: s.GRAPHQL_MAX_COST,
      listSize: s.GRAPHQL_LIST_SIZE,
    },
    maxBodyBytes: s.HTTP_MAX_BODY_BYTES,
    maxQueryChars: s.GRAPHQL_MAX_QUERY_CHARS,
    maxVariablesBytes: s.GRAPHQL_MAX_VARIABLES_BYTES,
    maxResponseBytes: s.HTTP_MAX_RESPONSE_BYTES,
    maxEntities: s.GRAPHQL_MAX_ENTITIES,
    corsOrigins: s.CORS_ORIGINS,
    trustedDocuments: s.TRUSTED_DOCUMENTS,
  };
}

/** Reads the edge settings from the environment (settings.ts checks them); refuses anything malformed at start. */
export function readEdgeSettings(env: NodeJS.ProcessEnv = process.env): EdgeSettings {
  return edgeSettingsOf(parseSettings(env, EDGE_SETTING_NAMES));
}
