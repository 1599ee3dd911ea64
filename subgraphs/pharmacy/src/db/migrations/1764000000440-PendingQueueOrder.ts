import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The staff queue is read oldest first, a page at a time, with or without a
 * kind: partial indexes of the pending requests alone, in the queue's order
 * (requested_at, id), so a page is one index range however long the queue and
 * however many decided requests the table holds. Plain SQL, the same on both databases.
 */
export class PendingQueueOrder1764000000440 implements MigrationInterface {
  name = 'PendingQueueOrder1764000000440';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX pharmacy_request_pending_order ON pharmacy_request (requested_at, id) WHERE status = 'PENDING'`);
    await q.query(`CREATE INDEX pharmacy_request_pending_kind_order ON pharmacy_request (kind, requested_at, id) WHERE status = 'PENDING'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX pharmacy_request_pending_kind_order');
    await q.query('DROP INDEX pharmacy_request_pending_order');
  }
}
