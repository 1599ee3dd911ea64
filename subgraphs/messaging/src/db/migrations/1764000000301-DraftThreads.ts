import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A thread's state: OPEN once its first message is sent, DRAFT while it is a
 * patient's unsent draft of a new thread (shown in their DRAFTS folder only).
 * Plain ALTER TABLE, which both databases take as is: TypeORM's SQLite
 * addColumn would rebuild the table under the foreign keys that point at it.
 */
export class DraftThreads1764000000301 implements MigrationInterface {
  name = 'DraftThreads1764000000301';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE message_thread ADD COLUMN state varchar(16) NOT NULL DEFAULT 'OPEN'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE message_thread DROP COLUMN state`);
  }
}
