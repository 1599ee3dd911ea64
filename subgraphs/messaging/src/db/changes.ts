/**
 * Messaging's changes run through the kit's `runChange`. On PostgreSQL,
 * duplicates are settled by the unique indexes (message (sender_id,
 * idempotency_key), message id, one draft per author and thread): the loser's
 * insert fails, its transaction rolls back whole, and the caller reads the
 * winner's row instead. On SQLite changes queue, so a duplicate finds the
 * first row when it reads, before it writes.
 */
export { runChange } from '@portal/kit';
