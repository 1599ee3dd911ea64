import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { varcharColumn as v } from '@portal/kit';

const id = () => v('id', 64, { isPrimary: true });
const patientId = () => v('patient_id', 64);
const float = (name: string) => ({ name, type: 'double precision', isNullable: true });
const text = (name: string) => ({ name, type: 'text' });

export class CreateClinicalRecords1764000000500 implements MigrationInterface {
  name = 'CreateClinicalRecords1764000000500';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'lab_result',
        columns: [
          id(),
          patientId(),
          v('test_name', 200),
          v('loinc_code', 16),
          v('value', 100),
          v('unit', 32, { isNullable: true }),
          float('ref_low'),
          float('ref_high'),
          v('ref_text', 100, { isNullable: true }),
          v('interpretation', 16, { isNullable: true }),
          v('status', 16),
          v('source', 16),
          v('collected_at', 32),
          v('resulted_at', 32),
        ],
        indices: [
          // Newest-first pages of a patient's results.
          { columnNames: ['patient_id', 'resulted_at', 'id'] },
          // Earlier values of one test for a trend.
          { columnNames: ['patient_id', 'loinc_code', 'resulted_at'] },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'visit_note',
        columns: [
          id(),
          patientId(),
          v('appointment_id', 64, { isNullable: true }),
          v('author_id', 64),
          v('title', 200),
          v('note_type', 64),
          v('status', 16),
          v('source', 16),
          v('authored_at', 32),
          text('text'),
        ],
        indices: [{ columnNames: ['patient_id', 'authored_at', 'id'] }, { columnNames: ['appointment_id'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'condition',
        columns: [id(), patientId(), v('name', 200), v('icd10_code', 16), v('clinical_status', 32), v('onset_date', 10, { isNullable: true })],
        indices: [{ columnNames: ['patient_id', 'name'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'allergy',
        columns: [
          id(),
          patientId(),
          v('substance', 200),
          v('reaction', 200, { isNullable: true }),
          v('severity', 32, { isNullable: true }),
          v('recorded_at', 32),
        ],
        indices: [{ columnNames: ['patient_id', 'substance'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'immunization',
        columns: [id(), patientId(), v('vaccine', 200), v('occurrence_date', 10)],
        indices: [{ columnNames: ['patient_id', 'occurrence_date'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'vital',
        columns: [id(), patientId(), v('kind', 32), v('value', 32), v('unit', 32), v('recorded_at', 32)],
        indices: [{ columnNames: ['patient_id', 'recorded_at', 'id'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'health_topic',
        columns: [id(), v('title', 200), v('summary', 500), text('body'), v('reviewed_by', 200), v('reviewed_at', 10)],
        indices: [{ columnNames: ['title'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'health_topic_code',
        columns: [v('topic_id', 64, { isPrimary: true }), v('system', 8, { isPrimary: true }), v('code', 32, { isPrimary: true })],
        foreignKeys: [{ columnNames: ['topic_id'], referencedTableName: 'health_topic', referencedColumnNames: ['id'] }],
        indices: [{ columnNames: ['system', 'code'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['health_topic_code', 'health_topic', 'vital', 'immunization', 'allergy', 'condition', 'visit_note', 'lab_result']) {
      await q.dropTable(t);
    }
  }
}
