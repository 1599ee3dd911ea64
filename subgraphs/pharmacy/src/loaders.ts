import DataLoader from 'dataloader';
import { groupLoader, rowLoader } from '@portal/kit';
import type { PrescriptionRow } from './db/entities';
import type { PharmacyStore, PrescriptionFilter } from './db/store';

const FILTERS: readonly string[] = ['ACTIVE', 'EXPIRED', 'DISCONTINUED'];

/** Built once per request: a loader's cache must never outlive its viewer. */
export function createLoaders(store: PharmacyStore, today: string) {
  const prescription = rowLoader((ids) => store.prescriptionsByIds(ids), (p) => p.id);

  // Keyed "<filter>|<patientId>": one statement per distinct filter in a batch, however many patients.
  const prescriptionsOfPatient = new DataLoader<string, PrescriptionRow[]>(async (keys) => {
    const byFilter = new Map<PrescriptionFilter, string[]>();
    for (const key of keys) {
      const [f, patientId] = splitKey(key);
      byFilter.set(f, [...(byFilter.get(f) ?? []), patientId]);
    }
    const lists = new Map<string, PrescriptionRow[]>();
    await Promise.all(
      [...byFilter].map(async ([filter, patientIds]) => {
        for (const row of await store.prescriptionsOfPatients(patientIds, filter, today)) {
          // renewedFrom and __resolveReference of a listed prescription then cost nothing.
          prescription.prime(row.id, row);
          const k = patientKey(row.patientId, filter);
          lists.set(k, [...(lists.get(k) ?? []), row]);
        }
      }),
    );
    return keys.map((k) => lists.get(k) ?? []);
  });

  const renewals = groupLoader((ids) => store.renewalsOf(ids), (p: PrescriptionRow) => p.renewedFromId ?? '');
  const fills = groupLoader((ids) => store.fillsOf(ids), (f) => f.prescriptionId);
  const pendingRequests = groupLoader((ids) => store.pendingRequestsOf(ids), (r) => r.prescriptionId);

  return {
    medication: rowLoader((codes) => store.medicationsByCodes(codes), (m) => m.rxnormCode),
    prescription,
    prescriptionsOfPatient,
    renewals,
    fills,
    pendingRequests,
    request: rowLoader((ids) => store.requestsByIds(ids), (r) => r.id),
    /** After a change of this prescription in this request: later fields read it again. */
    forget(prescriptionId: string): void {
      prescription.clear(prescriptionId);
      prescriptionsOfPatient.clearAll();
      renewals.clear(prescriptionId);
      fills.clear(prescriptionId);
      pendingRequests.clear(prescriptionId);
    },
  };
}

export const patientKey = (patientId: string, filter: PrescriptionFilter) => `${filter ?? 'ALL'}|${patientId}`;

function splitKey(key: string): [PrescriptionFilter, string] {
  const bar = key.indexOf('|');
  const f = key.slice(0, bar);
  return [FILTERS.includes(f) ? (f as PrescriptionFilter) : null, key.slice(bar + 1)];
}

export type PharmacyLoaders = ReturnType<typeof createLoaders>;
