import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A thread's sensitivity (NORMAL, BEHAVIORAL_HEALTH, REPRODUCTIVE_HEALTH,
 * SUBSTANCE_USE): a proxy whose grant hides sensitive records (a parent of a
 * 13 to 17 year old) never sees a thread that is not NORMAL. Existing threads
 * are NORMAL. Plain ALTER TABLE, which both databases take as is (TypeORM's
 * SQLite addColumn would rebuild the table under the foreign keys that point at it).
 */
export class ThreadSensitivity1764000000303 implements MigrationInterface {
  name = 'ThreadSensitivity1764000000303';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE message_thread ADD COLUMN sensitivity varchar(24) NOT NULL DEFAULT 'NORMAL'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE message_thread DROP COLUMN sensitivity`);
  }
}
