import type { SubgraphContext } from '@portal/kit';
import { utcDate } from './dates';
import { PharmacyStore } from './db/store';
import { createLoaders, type PharmacyLoaders } from './loaders';
import { PrescriptionService } from './services/prescriptions';

export interface PharmacyContext extends SubgraphContext {
  store: PharmacyStore;
  loaders: PharmacyLoaders;
  prescriptions: PrescriptionService;
}

export function createContext(base: SubgraphContext, now: Date = new Date()): PharmacyContext {
  // One "today" per request, so a request spanning midnight never mixes two answers.
  const today = utcDate(now);
  const store = new PharmacyStore(base.db);
  const loaders = createLoaders(store, today);
  return { ...base, store, loaders, prescriptions: new PrescriptionService(base.access, loaders, today) };
}
