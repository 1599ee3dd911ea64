import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each lab result's and visit note's sensitivity (NORMAL, BEHAVIORAL_HEALTH,
 * REPRODUCTIVE_HEALTH, SUBSTANCE_USE): a proxy whose grant hides sensitive
 * records (a parent of a 13 to 17 year old) never sees one that is not NORMAL.
 * Existing records are NORMAL. Plain ALTER TABLE, which both databases take as
 * is (TypeORM's SQLite addColumn rebuilds the whole table).
 */
export class RecordSensitivity1764000000502 implements MigrationInterface {
  name = 'RecordSensitivity1764000000502';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE lab_result ADD COLUMN sensitivity varchar(24) NOT NULL DEFAULT 'NORMAL'`);
    await q.query(`ALTER TABLE visit_note ADD COLUMN sensitivity varchar(24) NOT NULL DEFAULT 'NORMAL'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE visit_note DROP COLUMN sensitivity`);
    await q.query(`ALTER TABLE lab_result DROP COLUMN sensitivity`);
  }
}
