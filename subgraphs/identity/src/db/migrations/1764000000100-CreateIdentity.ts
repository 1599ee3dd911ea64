import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { varcharColumn as v } from '@portal/kit';

export class CreateIdentity1764000000100 implements MigrationInterface {
  name = 'CreateIdentity1764000000100';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'person',
        columns: [
          v('id', 64, { isPrimary: true }),
          v('kind', 16),
          v('dod_id', 10, { isUnique: true }),
          v('given_name', 100),
          v('middle_name', 100, { isNullable: true }),
          v('family_name', 100),
          v('date_of_birth', 10),
          v('specialty', 64, { isNullable: true }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'affiliation',
        columns: [
          v('id', 64, { isPrimary: true }),
          v('person_id', 64),
          v('organization', 8),
          v('status', 24),
          v('start_date', 10),
          v('end_date', 10, { isNullable: true }),
        ],
        foreignKeys: [{ columnNames: ['person_id'], referencedTableName: 'person', referencedColumnNames: ['id'] }],
        indices: [{ columnNames: ['person_id', 'start_date'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'account',
        columns: [
          v('id', 64, { isPrimary: true }),
          v('person_id', 64),
          v('username', 64, { isNullable: true }),
          v('password_hash', 255, { isNullable: true }),
          v('role', 16),
          v('status', 16),
          v('created_at', 32),
          v('deactivated_at', 32, { isNullable: true }),
        ],
        foreignKeys: [{ columnNames: ['person_id'], referencedTableName: 'person', referencedColumnNames: ['id'] }],
        indices: [{ columnNames: ['person_id'] }],
      }),
    );
    // A username stays taken even after its account is deactivated, so it can never be reused by someone else.
    await q.createIndex('account', new TableIndex({ name: 'account_username_unique', columnNames: ['username'], isUnique: true }));
    await q.createTable(
      new Table({
        name: 'session',
        columns: [
          v('id', 64, { isPrimary: true }),
          v('account_id', 64),
          v('method', 16),
          v('created_at', 32),
          v('expires_at', 32),
          v('ended_at', 32, { isNullable: true }),
        ],
        foreignKeys: [{ columnNames: ['account_id'], referencedTableName: 'account', referencedColumnNames: ['id'] }],
        indices: [{ columnNames: ['account_id'] }],
      }),
    );
    await q.createTable(new Table({ name: 'care_team', columns: [v('id', 64, { isPrimary: true }), v('name', 120)] }));
    await q.createTable(
      new Table({
        name: 'care_team_member',
        columns: [v('care_team_id', 64, { isPrimary: true }), v('person_id', 64, { isPrimary: true })],
        foreignKeys: [
          { columnNames: ['care_team_id'], referencedTableName: 'care_team', referencedColumnNames: ['id'] },
          { columnNames: ['person_id'], referencedTableName: 'person', referencedColumnNames: ['id'] },
        ],
        indices: [{ columnNames: ['person_id'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'sign_in_throttle',
        columns: [v('username_key', 64, { isPrimary: true }), { name: 'failures', type: 'integer' }, v('locked_until', 32, { isNullable: true })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['sign_in_throttle', 'care_team_member', 'care_team', 'session', 'account', 'affiliation', 'person']) {
      await q.dropTable(t);
    }
  }
}
