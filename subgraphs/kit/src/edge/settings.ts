import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from './documentLimits';

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

const POSITIVE_INTEGER = /^[1-9][0-9]{0,9}$/;

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!POSITIVE_INTEGER.test(raw.trim())) throw new Error(`${name} must be a positive whole number (got "${raw}").`);
  return Number(raw.trim());
}

function origins(raw: string | undefined): string[] {
  const list = (raw ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of list) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    // Exact origins only: a browser sends "scheme://host[:port]", never a path or a wildcard.
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== origin) {
      throw new Error(`CORS_ORIGINS takes exact origins such as https://portal.example.mil, comma-separated (got "${origin}").`);
    }
  }
  return list;
}

/** Reads the edge settings from the environment; refuses anything malformed at start. */
export function readEdgeSettings(env: NodeJS.ProcessEnv = process.env): EdgeSettings {
  const d = DEFAULT_EDGE_SETTINGS;
  const trusted = (env.TRUSTED_DOCUMENTS ?? '').trim();
  if (!['', '0', '1'].includes(trusted)) throw new Error('TRUSTED_DOCUMENTS must be 1 (only the contract operations) or 0.');
  return {
    document: {
      maxDepth: integer(env, 'GRAPHQL_MAX_DEPTH', d.document.maxDepth),
      maxAliases: integer(env, 'GRAPHQL_MAX_ALIASES', d.document.maxAliases),
      maxRootFields: integer(env, 'GRAPHQL_MAX_ROOT_FIELDS', d.document.maxRootFields),
      maxDirectives: integer(env, 'GRAPHQL_MAX_DIRECTIVES', d.document.maxDirectives),
      maxTokens: integer(env, 'GRAPHQL_MAX_TOKENS', d.document.maxTokens),
      maxCost: integer(env, 'GRAPHQL_MAX_COST', d.document.maxCost),
      listSize: integer(env, 'GRAPHQL_LIST_SIZE', d.document.listSize),
    },
    maxBodyBytes: integer(env, 'HTTP_MAX_BODY_BYTES', d.maxBodyBytes),
    maxQueryChars: integer(env, 'GRAPHQL_MAX_QUERY_CHARS', d.maxQueryChars),
    maxVariablesBytes: integer(env, 'GRAPHQL_MAX_VARIABLES_BYTES', d.maxVariablesBytes),
    maxResponseBytes: integer(env, 'HTTP_MAX_RESPONSE_BYTES', d.maxResponseBytes),
    maxEntities: integer(env, 'GRAPHQL_MAX_ENTITIES', d.maxEntities),
    corsOrigins: origins(env.CORS_ORIGINS),
    trustedDocuments: trusted === '1',
  };
}
