import DataLoader from 'dataloader';
import { groupLoader, rowLoader } from '@portal/kit';
import { proxyPairKey, type IdentityStore } from './db/store';

/** Built once per request: a loader's cache must never outlive its viewer. */
export function createLoaders(store: IdentityStore) {
  return {
    person: rowLoader((ids) => store.peopleByIds(ids), (p) => p.id),
    account: rowLoader((ids) => store.accountsByIds(ids), (a) => a.id),
    affiliations: groupLoader((ids) => store.affiliationsOf(ids), (a) => a.personId),
    careTeamsOfPerson: groupLoader((ids) => store.careTeamsOf(ids), (t) => t.personId),
    careTeam: rowLoader((ids) => store.careTeamsByIds(ids), (t) => t.id),
    pivCardsOfAccount: groupLoader((ids) => store.pivCardsOfAccounts(ids), (c) => c.accountId),
    /** Whether a person is or was a patient's proxy (the writers of a thread's proxy messages, in one statement). */
    actedAsProxy: new DataLoader<{ proxyId: string; patientId: string }, boolean, string>(
      async (pairs) => {
        const acted = await store.proxyPairsActed(pairs);
        return pairs.map((p) => acted.has(proxyPairKey(p.proxyId, p.patientId)));
      },
      { cacheKeyFn: (p) => proxyPairKey(p.proxyId, p.patientId) },
    ),
  };
}

export type IdentityLoaders = ReturnType<typeof createLoaders>;
