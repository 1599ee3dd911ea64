import type { RouteHandler, SigningKey, SubgraphRuntime } from '@portal/kit';
import { IdentityStore } from './db/store';

/** JWKS for every verifier, and the care-access question the other subgraphs ask. */
export function identityRoutes(runtime: SubgraphRuntime, keys: () => SigningKey[]): Record<string, RouteHandler> {
  const store = new IdentityStore(runtime.database.dataSource);
  return {
    'GET /.well-known/jwks.json': async () => ({
      status: 200,
      body: { keys: keys().map((k) => k.publicJwk) },
      headers: { 'cache-control': 'public, max-age=300' },
    }),
    'POST /internal/care-access': async (req, body) => {
      let viewer;
      try {
        viewer = await runtime.verifier.fromAuthorizationHeader(req.headers.authorization);
      } catch {
        viewer = null;
      }
      if (!viewer) return { status: 401, body: { error: 'unauthenticated' } };
      let ids: string[] = [];
      try {
        const parsed = JSON.parse(body.toString('utf8')) as { patientIds?: unknown };
        if (Array.isArray(parsed.patientIds)) ids = parsed.patientIds.filter((x): x is string => typeof x === 'string').slice(0, 1000);
      } catch {
        return { status: 400, body: { error: 'bad request' } };
      }
      const allowed = viewer.role === 'PRACTITIONER' ? await store.patientsTreatedBy(viewer.personId, ids) : new Set<string>();
      return { status: 200, body: { allowed: [...allowed] } };
    },
  };
}
