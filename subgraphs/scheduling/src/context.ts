import type { SubgraphContext } from '@portal/kit';
import { SchedulingStore } from './db/store';
import { createLoaders, type SchedulingLoaders } from './loaders';
import { AppointmentService } from './services/appointments';

export interface SchedulingContext extends SubgraphContext {
  /** One instant per request, so "upcoming" and "cancellable" agree within a response. */
  now: Date;
  store: SchedulingStore;
  loaders: SchedulingLoaders;
  appointments: AppointmentService;
}

export function createContext(base: SubgraphContext): SchedulingContext {
  const now = new Date();
  const store = new SchedulingStore(base.db);
  const loaders = createLoaders(store, now);
  return { ...base, now, store, loaders, appointments: new AppointmentService(base.access, loaders, store) };
}
