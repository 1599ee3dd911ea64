import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { varcharColumn as v } from '@portal/kit';

/** Smart-card challenges and PIV registrations, session activity, one active account per person, service credentials. */
export class SmartCardsSessionsServices1764000000150 implements MigrationInterface {
  name = 'SmartCardsSessionsServices1764000000150';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'smartcard_challenge',
        columns: [v('challenge', 64, { isPrimary: true }), v('created_at', 32), v('expires_at', 32), v('used_at', 32, { isNullable: true })],
        indices: [{ columnNames: ['expires_at'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'piv_card',
        columns: [v('id', 64, { isPrimary: true }), v('card_uuid', 36, { isUnique: true }), v('account_id', 64), v('fingerprint', 64), v('registered_at', 32)],
        foreignKeys: [{ columnNames: ['account_id'], referencedTableName: 'account', referencedColumnNames: ['id'] }],
        indices: [{ columnNames: ['account_id'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'service_client',
        columns: [v('client_id', 64, { isPrimary: true }), v('secret_hash', 255), v('scopes', 1000), v('created_at', 32), v('disabled_at', 32, { isNullable: true })],
      }),
    );
    await q.addColumn('session', new TableColumn(v('last_seen_at', 32, { isNullable: true })));
    // One active account per person, in the database itself: two racing sign-ups or first CAC
    // sign-ins cannot both create one. Deactivated accounts stay, so the index is partial.
    await q.createIndex(
      'account',
      new TableIndex({ name: 'account_one_active_per_person', columnNames: ['person_id'], isUnique: true, where: `status = 'ACTIVE'` }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('account', 'account_one_active_per_person');
    await q.dropColumn('session', 'last_seen_at');
    for (const t of ['service_client', 'piv_card', 'smartcard_challenge']) await q.dropTable(t);
  }
}
