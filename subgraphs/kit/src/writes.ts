import type { DataSource } from 'typeorm';
import { isPostgres } from './sql';

/** A unique index or primary key refused the row (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY). */
export function isUniqueViolation(e: unknown): boolean {
  const driver = (e as { driverError?: { code?: string } })?.driverError ?? (e as { code?: string });
  return driver?.code === '23505' || driver?.code === 'SQLITE_CONSTRAINT_UNIQUE' || driver?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
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
