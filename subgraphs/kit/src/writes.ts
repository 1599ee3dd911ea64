import type { DataSource } from 'typeorm';
import { isPostgres } from './sql';

/**
 * One unique index, as each database names it in a refusal: PostgreSQL by the
 * index (`constraint`), SQLite by the indexed columns in its message
 * ("UNIQUE constraint failed: appointment.slot_id"), one `table.column` is enough.
 */
export interface UniqueIndex {
  name: string;
  column: string;
}

/**
 * A unique index or primary key refused the row: PostgreSQL SQLSTATE 23505,
 * SQLite (better-sqlite3) SQLITE_CONSTRAINT_UNIQUE or SQLITE_CONSTRAINT_PRIMARYKEY.
 * With `index`, only a refusal by that index counts, for a table with more than one.
 */
export function isUniqueViolation(e: unknown, index?: UniqueIndex): boolean {
  const err = e as { driverError?: DriverError } & DriverError;
  const d: DriverError | undefined = err?.driverError ?? err;
  if (d?.code === '23505') return !index || d.constraint === index.name;
  if (d?.code === 'SQLITE_CONSTRAINT_UNIQUE' || d?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return !index || String(d.message).includes(index.column);
  }
  return false;
}

interface DriverError {
  code?: unknown;
  constraint?: unknown;
  message?: unknown;
}

/**
 * Runs one change ("read what is there, decide, write in one transaction")
 * so that it never interleaves with another change on the same SQLite file.
 *
 * PostgreSQL: changes run side by side, each transaction on its own pooled
 * connection; races are settled by unique indexes and row or advisory locks,
 * which work across instances.
 *
 * SQLite: TypeORM's better-sqlite3 driver runs every request on one shared
 * connection, so two open transactions would nest as savepoints of each other
 * and one's rollback could undo the other's writes. Changes therefore queue
 * per data source in this process, in arrival order.
 */
export function runChange<T>(db: DataSource, change: () => Promise<T>): Promise<T> {
  if (isPostgres(db)) return change();
  let queue = queues.get(db);
  if (!queue) queues.set(db, (queue = new Queue()));
  return queue.run(change);
}

/** Runs tasks one after another, in the order they arrive. */
class Queue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

// Keyed by data source: one queue per SQLite connection, dropped with it.
const queues = new WeakMap<DataSource, Queue>();
