import type { DataSource } from 'typeorm';
import { runChange, type AuditTrail } from '@portal/kit';
import { SchedulingStore } from './store';

/** What the read step of a change decided: a result to return as it is, or a plan to write. */
export type Decision<P, T> = { done: T } | { plan: P };

/**
 * Runs one change of a patient's appointments as "decide, then write", never
 * interleaved with another change of the same patient, on either database.
 *
 * PostgreSQL: one transaction that first takes the patient's advisory lock, so
 * two instances on one database queue behind each other; a slot's single
 * holder is guaranteed by the unique index whatever the locks.
 *
 * SQLite: TypeORM's better-sqlite3 driver gives every request the same single
 * connection, so two open transactions would nest as savepoints of one
 * another, and a refusal's ROLLBACK would also undo whatever other requests
 * wrote meanwhile (their audit events). Changes therefore queue per data
 * source in this process, read before BEGIN, and the transaction holds only the
 * writes, which a refusal never reaches.
 *
 * Either way the transaction also writes the request's audit events, so a
 * change is never stored without them.
 */
export async function changePatient<P, T>(
  db: DataSource,
  audit: AuditTrail,
  patientId: string,
  decide: (store: SchedulingStore) => Promise<Decision<P, T>>,
  write: (store: SchedulingStore, plan: P) => Promise<T>,
): Promise<T> {
  const store = new SchedulingStore(db);
  if (store.postgres) {
    return audit.transaction(db, async (tx) => {
      const inTx = store.within(tx);
      await inTx.lockPatient(patientId);
      const decision = await decide(inTx);
      return 'done' in decision ? decision.done : write(inTx, decision.plan);
    });
  }
  return runChange(db, async () => {
    const decision = await decide(store);
    if ('done' in decision) return decision.done;
    return audit.transaction(db, (tx) => write(store.within(tx), decision.plan));
  });
}
