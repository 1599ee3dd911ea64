import type { RouteHandler, SubgraphRuntime } from '@portal/kit';
import { PharmacyStore } from './db/store';

/**
 * What other subgraphs ask pharmacy: which patients have a pending request,
 * the condition of a pharmacist's right to see them (identity asks it before
 * showing a pharmacist a patient's demographics). Asked with the pharmacist's
 * own token; anyone else learns nothing.
 */
export function pharmacyRoutes(runtime: SubgraphRuntime): Record<string, RouteHandler> {
  const store = new PharmacyStore(runtime.database.dataSource);
  return {
    'POST /internal/pharmacy-access': async (req, body) => {
      const viewer = await runtime.verifier.fromAuthorizationHeader(req.headers.authorization).catch(() => null);
      if (!viewer) return { status: 401, body: { error: 'unauthenticated' } };
      let ids: string[] = [];
      try {
        const parsed = JSON.parse(body.toString('utf8')) as { patientIds?: unknown };
        if (Array.isArray(parsed.patientIds)) ids = parsed.patientIds.filter((x): x is string => typeof x === 'string').slice(0, 1000);
      } catch {
        return { status: 400, body: { error: 'bad request' } };
      }
      const pending = viewer.role === 'PHARMACIST' ? await store.patientsWithPendingRequests(ids) : new Set<string>();
      return { status: 200, body: { pending: [...pending] }, headers: { 'cache-control': 'no-store' } };
    },
  };
}
