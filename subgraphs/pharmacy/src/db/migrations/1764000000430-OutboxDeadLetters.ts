import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox gives up on a message messaging refuses for good: it counts the
 * refusals and stamps the row dead. Delivered and dead rows are purged after a
 * retention period, found through an index of each stamp.
 */
export class OutboxDeadLetters1764000000430 implements MigrationInterface {
  name = 'OutboxDeadLetters1764000000430';

  async up(q: QueryRunner): Promise<void> {
    // Plain ADD COLUMN on both databases: TypeORM's addColumn would rebuild the SQLite table.
    await q.query('ALTER TABLE pharmacy_outbox ADD COLUMN refusals integer NOT NULL DEFAULT 0');
    await q.query('ALTER TABLE pharmacy_outbox ADD COLUMN dead_at varchar(32)');
    await q.query('CREATE INDEX pharmacy_outbox_delivered ON pharmacy_outbox (delivered_at)');
    await q.query('CREATE INDEX pharmacy_outbox_dead ON pharmacy_outbox (dead_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX pharmacy_outbox_dead');
    await q.query('DROP INDEX pharmacy_outbox_delivered');
    await q.query('ALTER TABLE pharmacy_outbox DROP COLUMN dead_at');
    await q.query('ALTER TABLE pharmacy_outbox DROP COLUMN refusals');
  }
}
