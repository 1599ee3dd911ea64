import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Practitioner.schedule reads one practitioner's appointments by start. */
export class IndexAppointmentPractitioner1764000000201 implements MigrationInterface {
  name = 'IndexAppointmentPractitioner1764000000201';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex('appointment', new TableIndex({ name: 'appointment_practitioner_start', columnNames: ['practitioner_id', 'start_at'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('appointment', 'appointment_practitioner_start');
  }
}
