import type { ProxyAccessCheck, ProxyGrant } from '@portal/kit';
import type { IdentityStore } from '../db/store';
import { combine, dayOf, grantAccess, guardianAccess, type ProxyAccessRule } from './proxyRules';

/**
 * Whose records `proxyId` may see as a proxy on `today`, and how far: from
 * their guardian links (by each child's age today) and the live grants given
 * to them. Only `patientIds` when given; never the proxy themself.
 */
export async function proxyAccessOf(store: IdentityStore, proxyId: string, today: string, patientIds?: readonly string[]): Promise<Map<string, ProxyAccessRule>> {
  const ids = patientIds?.filter((id) => id !== proxyId);
  const [children, grants] = await Promise.all([store.childrenOf(proxyId, ids), store.liveGrantsTo(proxyId, today, ids)]);
  const found = new Map<string, ProxyAccessRule>();
  const add = (patientId: string, rule: ProxyAccessRule | null) => {
    if (!rule || patientId === proxyId) return;
    const before = found.get(patientId);
    found.set(patientId, before ? combine(before, rule) : rule);
  };
  for (const c of children) add(c.childId, guardianAccess(c.dateOfBirth, today));
  for (const g of grants) add(g.grantorPersonId, grantAccess(g));
  for (const [id, rule] of found) if (rule.scopes.length === 0) found.delete(id);
  return found;
}

/** The kit's question, answered from identity's own tables: what a PATIENT viewer may do for each of `patientIds` today. */
export function localProxyAccess(store: IdentityStore, clock: () => Date): ProxyAccessCheck {
  return async (viewer, patientIds) => {
    const grants = new Map<string, ProxyGrant>();
    if (viewer.role !== 'PATIENT' || patientIds.length === 0) return grants;
    for (const [id, rule] of await proxyAccessOf(store, viewer.personId, dayOf(clock()), patientIds)) {
      grants.set(id, { scopes: rule.scopes, hideSensitive: rule.hideSensitive });
    }
    return grants;
  };
}
