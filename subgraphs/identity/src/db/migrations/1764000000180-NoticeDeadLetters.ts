import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Notices messaging refuses for good are counted and, at the limit, stamped
 * dead rather than retried for ever. Delivered and dead notices are purged
 * after a retention period, found through an index of each stamp.
 */
export class NoticeDeadLetters1764000000180 implements MigrationInterface {
  name = 'NoticeDeadLetters1764000000180';

  async up(q: QueryRunner): Promise<void> {
    // Plain ADD COLUMN on both databases: TypeORM's addColumn would rebuild the SQLite table.
    await q.query('ALTER TABLE identity_notice ADD COLUMN refusals integer NOT NULL DEFAULT 0');
    await q.query('ALTER TABLE identity_notice ADD COLUMN dead_at varchar(32)');
    await q.query('CREATE INDEX identity_notice_delivered ON identity_notice (delivered_at)');
    await q.query('CREATE INDEX identity_notice_dead ON identity_notice (dead_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX identity_notice_dead');
    await q.query('DROP INDEX identity_notice_delivered');
    await q.query('ALTER TABLE identity_notice DROP COLUMN dead_at');
    await q.query('ALTER TABLE identity_notice DROP COLUMN refusals');
  }
}
