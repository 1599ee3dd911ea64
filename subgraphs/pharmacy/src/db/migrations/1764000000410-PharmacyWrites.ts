import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { varcharColumn as v, integerColumn as int } from '@portal/kit';

/**
 * The write side: the care team a prescription was written in (whom a
 * decision's message comes from), and the outbox of messages to the patient.
 * The read side's `pharmacy_outbox` never held a row (nothing wrote to it), so
 * it is replaced by one whose columns are the message itself.
 */
export class PharmacyWrites1764000000410 implements MigrationInterface {
  name = 'PharmacyWrites1764000000410';

  async up(q: QueryRunner): Promise<void> {
    // Nullable: rows written before this migration name no team until a seed or an import fills it in.
    // Plain ADD COLUMN on both databases: TypeORM's addColumn would rebuild the SQLite table, which the
    // foreign keys pointing at prescription refuse.
    await q.query('ALTER TABLE prescription ADD COLUMN care_team_id varchar(64)');
    await q.dropTable('pharmacy_outbox');
    await q.createTable(
      new Table({
        name: 'pharmacy_outbox',
        columns: [
          v('id', 64, { isPrimary: true }),
          // Sent to messaging as postCareTeamMessage's idempotencyKey: one message per event, however often delivered.
          v('idempotency_key', 100),
          v('request_id', 64),
          v('patient_id', 64),
          v('care_team_id', 64),
          v('category', 16),
          v('subject', 120),
          { name: 'body', type: 'text' },
          v('sender_name', 100),
          v('created_at', 32),
          int('attempts', { default: 0 }),
          v('next_attempt_at', 32),
          // A claimed row is someone's until its lease ends; a worker that died mid-delivery just lets it lapse.
          v('locked_until', 32, { isNullable: true }),
          v('locked_by', 64, { isNullable: true }),
          v('delivered_at', 32, { isNullable: true }),
          // The error's class only (e.g. "HTTP 503"): never a response body, which could echo health data.
          v('last_error', 200, { isNullable: true }),
        ],
        foreignKeys: [{ columnNames: ['request_id'], referencedTableName: 'pharmacy_request', referencedColumnNames: ['id'] }],
        indices: [
          { name: 'pharmacy_outbox_key', columnNames: ['idempotency_key'], isUnique: true },
          { name: 'pharmacy_outbox_due', columnNames: ['next_attempt_at'], where: 'delivered_at IS NULL' },
          { name: 'pharmacy_outbox_request', columnNames: ['request_id'] },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('pharmacy_outbox');
    await q.query('ALTER TABLE prescription DROP COLUMN care_team_id');
    await q.createTable(
      new Table({
        name: 'pharmacy_outbox',
        columns: [
          v('id', 64, { isPrimary: true }),
          v('topic', 64),
          v('aggregate_id', 64),
          v('patient_id', 64),
          { name: 'payload', type: 'text' },
          v('created_at', 32),
          int('attempts', { default: 0 }),
          v('next_attempt_at', 32),
          v('dispatched_at', 32, { isNullable: true }),
          v('last_error', 200, { isNullable: true }),
        ],
        indices: [
          { name: 'pharmacy_outbox_once', columnNames: ['topic', 'aggregate_id'], isUnique: true },
          { name: 'pharmacy_outbox_due', columnNames: ['dispatched_at', 'next_attempt_at'] },
        ],
      }),
    );
  }
}
