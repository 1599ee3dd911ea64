import type { SubgraphContext } from '@portal/kit';
import { utcDate } from './dates';
import { PharmacyStore } from './db/store';
import { createLoaders, type PharmacyLoaders } from './loaders';
import { PrescriptionService } from './services/prescriptions';
import { RequestService } from './services/requests';

export interface PharmacyContext extends SubgraphContext {
  store: PharmacyStore;
  loaders: PharmacyLoaders;
  prescriptions: PrescriptionService;
  requests: RequestService;
}

export interface ContextDeps {
  /** Wakes this instance's outbox worker after a decision committed. */
  kickOutbox(): void;
}

export function createContext(base: SubgraphContext, deps: ContextDeps = { kickOutbox: () => undefined }, now: Date = new Date()): PharmacyContext {
  // One "today" per request, so a request spanning midnight never mixes two answers.
  const today = utcDate(now);
  const store = new PharmacyStore(base.db);
  const loaders = createLoaders(store, today);
  return {
    ...base,
    store,
    loaders,
    prescriptions: new PrescriptionService(base.access, loaders, today, { db: base.db, store, audit: base.audit }),
    requests: new RequestService(base.access, base.audit, base.db, store, loaders, now, today, deps.kickOutbox),
  };
}
