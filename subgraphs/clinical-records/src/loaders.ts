import DataLoader from 'dataloader';
import { groupLoader, rowLoader, type Page } from '@portal/kit';
import type { CodeSystem } from './db/entities';
import type { ClinicalStore } from './db/store';

export interface PageKey {
  patientId: string;
  page: Page;
}

const pageKey = (k: PageKey) => JSON.stringify([k.patientId, k.page.limit, k.page.after]);

/**
 * One page per patient. Keys asking for the same page arguments share one
 * (windowed) statement, so the statement count follows the query's shape,
 * never the number of patients or rows.
 */
function pageLoader<R extends { patientId: string }>(fetch: (patientIds: string[], page: Page) => Promise<R[]>) {
  return new DataLoader<PageKey, R[], string>(
    async (keys) => {
      const groups = new Map<string, { page: Page; patientIds: string[] }>();
      for (const k of keys) {
        const signature = JSON.stringify([k.page.limit, k.page.after]);
        const group = groups.get(signature) ?? { page: k.page, patientIds: [] };
        group.patientIds.push(k.patientId);
        groups.set(signature, group);
      }
      const byKey = new Map<string, R[]>();
      await Promise.all(
        [...groups.values()].map(async ({ page, patientIds }) => {
          for (const row of await fetch(patientIds, page)) {
            const key = pageKey({ patientId: row.patientId, page });
            byKey.set(key, [...(byKey.get(key) ?? []), row]);
          }
        }),
      );
      return keys.map((k) => byKey.get(pageKey(k)) ?? []);
    },
    { cacheKeyFn: pageKey },
  );
}

/** How many rows each patient has; zero when none. */
function countLoader(fetch: (patientIds: readonly string[]) => Promise<{ patientId: string; n: number | string }[]>) {
  const rows = rowLoader(fetch, (r) => r.patientId);
  return { load: async (patientId: string) => Number((await rows.load(patientId))?.n ?? 0) };
}

export const codeKey = (system: CodeSystem, code: string) => `${system}|${code}`;
export const historyKey = (patientId: string, resultId: string) => `${patientId}|${resultId}`;

/**
 * Built once per request: a loader's cache must never outlive its viewer.
 * `hidesSensitive` is the request's `Access.hidesSensitive` (batched, asked of
 * identity): the sensitive results and notes of those patients are left out in SQL.
 */
export function createLoaders(store: ClinicalStore, hidesSensitive: (patientId: string) => Promise<boolean> = async () => false) {
  const hidden = async (ids: readonly string[]) => {
    const hides = await Promise.all(ids.map(hidesSensitive));
    return ids.filter((_, i) => hides[i]);
  };
  return {
    labResultPage: pageLoader(async (ids, page) => store.labResultPages(ids, page, await hidden(ids))),
    labResultCount: countLoader(async (ids) => store.labResultCounts(ids, await hidden(ids))),
    /** Keyed by `historyKey(patientId, resultId)`: the patient says whose sensitive earlier values stay hidden. */
    labHistory: groupLoader(
      async (keys) => {
        const ids = keys.map((k) => k.slice(k.indexOf('|') + 1));
        const patients = [...new Set(keys.map((k) => k.slice(0, k.indexOf('|'))))];
        return store.labHistory(ids, await hidden(patients));
      },
      (p) => historyKey(p.patientId, p.resultId),
    ),
    visitNotePage: pageLoader(async (ids, page) => store.visitNotePages(ids, page, await hidden(ids))),
    visitNoteCount: countLoader(async (ids) => store.visitNoteCounts(ids, await hidden(ids))),
    visitNote: rowLoader((ids) => store.visitNotesByIds(ids), (n) => n.id),
    visitNotesOfAppointment: groupLoader((ids) => store.visitNotesByAppointments(ids), (n) => n.appointmentId ?? ''),
    vitalPage: pageLoader((ids, page) => store.vitalPages(ids, page)),
    vitalCount: countLoader((ids) => store.vitalCounts(ids)),
    conditions: groupLoader((ids) => store.conditionsOf(ids), (c) => c.patientId),
    allergies: groupLoader((ids) => store.allergiesOf(ids), (a) => a.patientId),
    immunizations: groupLoader((ids) => store.immunizationsOf(ids), (i) => i.patientId),
    /** Keyed by `codeKey(system, code)`. */
    topicsByCode: groupLoader(
      (keys) => store.topicsByCodes(keys.map((k) => ({ system: k.slice(0, k.indexOf('|')) as CodeSystem, code: k.slice(k.indexOf('|') + 1) }))),
      (t) => codeKey(t.system, t.code),
    ),
  };
}

export type ClinicalLoaders = ReturnType<typeof createLoaders>;
