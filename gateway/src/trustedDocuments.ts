/**
 * TRUSTED_DOCUMENTS=1: the gateway answers only the operations of the client
 * contract (schema/operations/manifest.json). A client sends either the full
 * text of a contract operation (any formatting: it is normalised before its
 * hash is looked up) or only its hash, as Apollo's persisted queries do
 * (`extensions.persistedQuery.sha256Hash`). Either way the gateway runs the
 * manifest's own text, so no other document ever reaches parsing and
 * validation.
 */
import { DEFAULT_DOCUMENT_LIMITS, edgeError, ErrorCode, type EdgeReply } from '@portal/kit';
import { normaliseQuery, readManifest, sha256, type ManifestOperation, type OperationManifest } from './operations';

type Admitted = { body: unknown; search: string };

const notTrusted = (message: string) => edgeError(400, ErrorCode.OPERATION_NOT_TRUSTED, message);

const NOT_IN_CONTRACT = 'This server answers only the operations of its client contract; this one is not among them.';

/** The `admit` step of the HTTP front for trusted-documents mode. */
export function trustedDocuments(manifest: OperationManifest = readManifest(), maxTokens = DEFAULT_DOCUMENT_LIMITS.maxTokens) {
  const byId = new Map<string, ManifestOperation>(manifest.operations.map((op) => [op.id, op]));

  const lookup = (query: unknown, extensions: unknown): ManifestOperation | EdgeReply => {
    if (typeof query === 'string' && query.length > 0) {
      const exact = byId.get(sha256(query));
      if (exact) return exact;
      const text = normaliseQuery(query, maxTokens);
      return (text !== undefined && byId.get(sha256(text))) || notTrusted(NOT_IN_CONTRACT);
    }
    const hash = (extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery?.sha256Hash;
    if (typeof hash === 'string') return byId.get(hash) ?? notTrusted(NOT_IN_CONTRACT);
    return notTrusted('Send a contract operation: its text as "query", or its sha256 as extensions.persistedQuery.sha256Hash.');
  };

  return ({ body, search }: Admitted): EdgeReply | Admitted => {
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      const { query, extensions, ...rest } = body as { query?: unknown; extensions?: Record<string, unknown> };
      const found = lookup(query, extensions);
      if ('status' in found) return found;
      const { persistedQuery: _, ...otherExtensions } = extensions ?? {};
      return { body: { ...rest, query: found.body, ...(Object.keys(otherExtensions).length ? { extensions: otherExtensions } : {}) }, search };
    }
    if (body === undefined && search) {
      const params = new URLSearchParams(search);
      let extensions: unknown;
      try {
        extensions = params.has('extensions') ? JSON.parse(params.get('extensions')!) : undefined;
      } catch {
        return edgeError(400, 'BAD_REQUEST', 'The extensions parameter is not valid JSON.');
      }
      const found = lookup(params.get('query') ?? undefined, extensions);
      if ('status' in found) return found;
      params.set('query', found.body);
      params.delete('extensions');
      return { body, search: `?${params.toString()}` };
    }
    // Not a GraphQL request at all (e.g. the landing page): Apollo answers it as usual.
    return { body, search };
  };
}
