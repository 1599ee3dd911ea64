import type { DataSource } from 'typeorm';
import { isPostgres } from '@portal/kit';

/**
 * Runs one change ("read what is there, decide, write in one transaction").
 *
 * PostgreSQL: changes run side by side, each transaction on its own pooled
 * connection; duplicates are settled by the unique indexes (message
 * (sender_id, idempotency_key), message id, one draft per author and thread):
 * the loser's insert fails, its transaction rolls back whole, and the caller
 * reads the winner's row instead.
 *
 * SQLite: TypeORM's better-sqlite3 driver runs every request on one shared
 * connection, so two open transactions would nest as savepoints of each other
 * and one's rollback could undo the other's writes. Changes therefore queue
 * per data source in this process; a duplicate then finds the first row when
 * it reads, before it writes.
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
