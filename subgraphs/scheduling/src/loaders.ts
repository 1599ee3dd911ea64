import DataLoader from 'dataloader';
import { rowLoader, type Keyset } from '@portal/kit';
import type { AppointmentRow } from './db/entities';
import type { SchedulingStore } from './db/store';

/** One patient's page of a list: which patient, how many rows, and where to continue. */
export interface PageKey {
  patientId: string;
  limit: number;
  after?: Keyset | null;
}

/**
 * A per-patient page loader: keys that share a page shape (limit and cursor)
 * are fetched in one windowed statement, so the statement count depends on
 * the query's shape, never on how many patients or rows it returns.
 */
function pageLoader(fetch: (patientIds: string[], limit: number, after: Keyset | null) => Promise<AppointmentRow[]>) {
  return new DataLoader<PageKey, AppointmentRow[], string>(
    async (keys) => {
      const groups = new Map<string, { limit: number; after: Keyset | null; ids: string[] }>();
      for (const k of keys) {
        const shape = JSON.stringify([k.limit, k.after ?? null]);
        const group = groups.get(shape) ?? { limit: k.limit, after: k.after ?? null, ids: [] };
        group.ids.push(k.patientId);
        groups.set(shape, group);
      }
      const byKey = new Map<string, AppointmentRow[]>();
      await Promise.all(
        [...groups.values()].map(async (g) => {
          const ids = [...new Set(g.ids)];
          const rows = await fetch(ids, g.limit, g.after);
          for (const id of ids) byKey.set(pageKey({ patientId: id, limit: g.limit, after: g.after }), []);
          for (const row of rows) byKey.get(pageKey({ patientId: row.patientId, limit: g.limit, after: g.after }))!.push(row);
        }),
      );
      return keys.map((k) => byKey.get(pageKey(k)) ?? []);
    },
    { cacheKeyFn: pageKey },
  );
}

const pageKey = (k: PageKey) => JSON.stringify([k.patientId, k.limit, k.after ?? null]);

/** One practitioner's appointments in [from, to) (ISO instants). */
export interface ScheduleKey {
  practitionerId: string;
  from: string;
  to: string;
}

const scheduleKey = (k: ScheduleKey) => JSON.stringify([k.practitionerId, k.from, k.to]);

/** Practitioners asked for the same range share one statement. */
function scheduleLoader(store: SchedulingStore) {
  return new DataLoader<ScheduleKey, AppointmentRow[], string>(
    async (keys) => {
      const ranges = new Map<string, { from: string; to: string; ids: Set<string> }>();
      for (const k of keys) {
        const range = JSON.stringify([k.from, k.to]);
        const group = ranges.get(range) ?? { from: k.from, to: k.to, ids: new Set<string>() };
        group.ids.add(k.practitionerId);
        ranges.set(range, group);
      }
      const byKey = new Map<string, AppointmentRow[]>();
      await Promise.all(
        [...ranges.values()].map(async (g) => {
          for (const row of await store.scheduleOf([...g.ids], g.from, g.to)) {
            const k = scheduleKey({ practitionerId: row.practitionerId, from: g.from, to: g.to });
            const list = byKey.get(k);
            if (list) list.push(row);
            else byKey.set(k, [row]);
          }
        }),
      );
      return keys.map((k) => byKey.get(scheduleKey(k)) ?? []);
    },
    { cacheKeyFn: scheduleKey },
  );
}

/** Built once per request: a loader's cache must never outlive its viewer. */
export function createLoaders(store: SchedulingStore, now: Date) {
  return {
    clinic: rowLoader((ids) => store.clinicsByIds(ids), (c) => c.id),
    appointment: rowLoader((ids) => store.appointmentsByIds(ids), (a) => a.id),
    upcoming: pageLoader((ids, limit) => store.upcomingOf(ids, limit, now)),
    appointmentPage: pageLoader((ids, limit, after) => store.appointmentsOf(ids, limit, after)),
    schedule: scheduleLoader(store),
    appointmentCount: new DataLoader<string, number>(async (ids) => {
      const counts = await store.appointmentCounts(ids);
      return ids.map((id) => counts.get(id) ?? 0);
    }),
  };
}

export type SchedulingLoaders = ReturnType<typeof createLoaders>;
