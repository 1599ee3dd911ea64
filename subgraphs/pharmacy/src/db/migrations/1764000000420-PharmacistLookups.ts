import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { varcharColumn as v } from '@portal/kit';

/**
 * A pharmacist's explicit look-up of a patient with no pending request: who
 * looked up whom, when, in which request, and the reason they gave. The reason
 * is free text, so it lives here, beside the audit trail, not in it.
 */
export class PharmacistLookups1764000000420 implements MigrationInterface {
  name = 'PharmacistLookups1764000000420';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'pharmacist_lookup',
        columns: [v('id', 36, { isPrimary: true }), v('request_id', 64), v('pharmacist_id', 64), v('patient_id', 64), v('reason', 500), v('looked_up_at', 32)],
        indices: [{ columnNames: ['patient_id', 'looked_up_at'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('pharmacist_lookup');
  }
}
