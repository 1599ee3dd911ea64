import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { varcharColumn as v, integerColumn as int } from '@portal/kit';

export class CreatePharmacy1764000000400 implements MigrationInterface {
  name = 'CreatePharmacy1764000000400';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'medication',
        columns: [v('rxnorm_code', 16, { isPrimary: true }), v('name', 120), v('strength', 40), v('form', 40)],
      }),
    );
    await q.createTable(
      new Table({
        name: 'prescription',
        columns: [
          v('id', 64, { isPrimary: true }),
          v('patient_id', 64),
          v('medication_code', 16),
          v('directions', 500),
          int('quantity'),
          int('days_supply'),
          int('refills_authorized'),
          int('refills_remaining'),
          v('written_on', 10),
          v('expires_on', 10),
          v('status', 16),
          v('prescriber_id', 64),
          v('renewed_from_id', 64, { isNullable: true }),
          v('discontinued_at', 32, { isNullable: true }),
          v('created_at', 32),
        ],
        foreignKeys: [
          { columnNames: ['medication_code'], referencedTableName: 'medication', referencedColumnNames: ['rxnorm_code'] },
          { columnNames: ['renewed_from_id'], referencedTableName: 'prescription', referencedColumnNames: ['id'] },
        ],
        checks: [
          // A refill decrement that would go below zero fails in the database, whatever the code does.
          { name: 'prescription_refills_range', expression: 'refills_remaining >= 0 AND refills_remaining <= refills_authorized' },
          { name: 'prescription_status_stored', expression: "status IN ('ACTIVE', 'DISCONTINUED')" },
        ],
        indices: [
          { name: 'prescription_patient_written', columnNames: ['patient_id', 'written_on', 'id'] },
          // A prescription is renewed at most once, even if two approvals race.
          { name: 'prescription_renewed_from_unique', columnNames: ['renewed_from_id'], isUnique: true },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'fill',
        columns: [v('id', 64, { isPrimary: true }), v('prescription_id', 64), v('filled_on', 10), int('quantity')],
        foreignKeys: [{ columnNames: ['prescription_id'], referencedTableName: 'prescription', referencedColumnNames: ['id'] }],
        indices: [{ name: 'fill_prescription_filled', columnNames: ['prescription_id', 'filled_on'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'pharmacy_request',
        columns: [
          v('id', 64, { isPrimary: true }),
          v('prescription_id', 64),
          v('patient_id', 64),
          v('kind', 16),
          v('status', 16),
          v('requested_at', 32),
          v('requested_by', 64),
          v('note', 1000, { isNullable: true }),
          v('decided_at', 32, { isNullable: true }),
          v('decided_by', 64, { isNullable: true }),
          v('decision_note', 1000, { isNullable: true }),
          v('new_prescription_id', 64, { isNullable: true }),
          v('idempotency_key', 128, { isNullable: true }),
        ],
        foreignKeys: [
          { columnNames: ['prescription_id'], referencedTableName: 'prescription', referencedColumnNames: ['id'] },
          { columnNames: ['new_prescription_id'], referencedTableName: 'prescription', referencedColumnNames: ['id'] },
        ],
        checks: [
          { name: 'pharmacy_request_kind', expression: "kind IN ('REFILL', 'RENEWAL')" },
          { name: 'pharmacy_request_status', expression: "status IN ('PENDING', 'APPROVED', 'DENIED', 'COMPLETED')" },
        ],
        indices: [
          // At most one PENDING request of a kind per prescription: two racing requests, one wins.
          { name: 'pharmacy_request_one_pending', columnNames: ['prescription_id', 'kind'], isUnique: true, where: "status = 'PENDING'" },
          // NULL keys never collide, so requests sent without a key are unaffected.
          { name: 'pharmacy_request_idempotency', columnNames: ['requested_by', 'idempotency_key'], isUnique: true },
          { name: 'pharmacy_request_queue', columnNames: ['status', 'kind', 'requested_at'] },
          { name: 'pharmacy_request_patient', columnNames: ['patient_id', 'requested_at'] },
          { name: 'pharmacy_request_prescription', columnNames: ['prescription_id', 'status'] },
        ],
      }),
    );
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
          // One notification per event of a request, however often the decision is retried.
          { name: 'pharmacy_outbox_once', columnNames: ['topic', 'aggregate_id'], isUnique: true },
          { name: 'pharmacy_outbox_due', columnNames: ['dispatched_at', 'next_attempt_at'] },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['pharmacy_outbox', 'pharmacy_request', 'fill', 'prescription', 'medication']) await q.dropTable(t);
  }
}
