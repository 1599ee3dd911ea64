import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { varcharColumn as v } from '@portal/kit';

export class CreateScheduling1764000000200 implements MigrationInterface {
  name = 'CreateScheduling1764000000200';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'clinic',
        columns: [v('id', 64, { isPrimary: true }), v('name', 120), v('time_zone', 64), v('phone', 32), v('appointment_types', 200)],
        indices: [{ name: 'clinic_name', columnNames: ['name'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'slot',
        columns: [
          v('id', 64, { isPrimary: true }),
          v('clinic_id', 64),
          v('practitioner_id', 64),
          v('appointment_type', 24),
          v('start_at', 32),
          v('end_at', 32),
        ],
        foreignKeys: [{ columnNames: ['clinic_id'], referencedTableName: 'clinic', referencedColumnNames: ['id'] }],
        indices: [
          // Free-slot search: one clinic, one type, a time range.
          { name: 'slot_clinic_type_start', columnNames: ['clinic_id', 'appointment_type', 'start_at'] },
          { name: 'slot_practitioner_start', columnNames: ['practitioner_id', 'start_at'] },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'appointment',
        columns: [
          v('id', 64, { isPrimary: true }),
          v('slot_id', 64, { isNullable: true }),
          v('patient_id', 64),
          v('practitioner_id', 64),
          v('clinic_id', 64),
          v('appointment_type', 24),
          v('start_at', 32),
          v('end_at', 32),
          v('status', 16),
          v('reason', 500, { isNullable: true }),
          v('created_at', 32),
          v('cancelled_at', 32, { isNullable: true }),
          v('cancelled_by', 64, { isNullable: true }),
          v('cancel_reason', 500, { isNullable: true }),
          v('idempotency_key', 128, { isNullable: true }),
        ],
        foreignKeys: [
          { columnNames: ['slot_id'], referencedTableName: 'slot', referencedColumnNames: ['id'] },
          { columnNames: ['clinic_id'], referencedTableName: 'clinic', referencedColumnNames: ['id'] },
        ],
        indices: [
          // Patient.appointments (newest first) and upcomingAppointments both scan a patient's rows by start.
          { name: 'appointment_patient_start', columnNames: ['patient_id', 'start_at'] },
        ],
      }),
    );
    // The database, not the code, guarantees a slot is booked at most once: every
    // appointment but a cancelled one holds its slot, so of several instances
    // racing to insert for one slot exactly one INSERT succeeds. Cancelling frees
    // the slot by changing status; no second row or column has to be kept in step.
    await q.createIndex(
      'appointment',
      new TableIndex({
        name: 'appointment_slot_held_unique',
        columnNames: ['slot_id'],
        isUnique: true,
        where: "slot_id IS NOT NULL AND status <> 'CANCELLED'",
      }),
    );
    // A retried create with the same key finds the first result instead of making a second.
    await q.createIndex(
      'appointment',
      new TableIndex({ name: 'appointment_patient_idempotency_unique', columnNames: ['patient_id', 'idempotency_key'], isUnique: true, where: 'idempotency_key IS NOT NULL' }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['appointment', 'slot', 'clinic']) await q.dropTable(t);
  }
}
