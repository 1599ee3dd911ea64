import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { varcharColumn as v } from '@portal/kit';

/**
 * Identity's own audit trail (sign-ins, lock-outs, credential changes, card
 * registrations, service tokens), append-only like the kit's `audit_event`,
 * whose rows name a patient's health records and so cannot hold these; and
 * the outbox of notices that tell a holder a credential was added or removed.
 */
export class AuditAndNotices1764000000160 implements MigrationInterface {
  name = 'AuditAndNotices1764000000160';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'identity_audit_event',
        columns: [
          v('id', 36, { isPrimary: true }),
          v('occurred_at', 32),
          v('request_id', 64),
          v('event', 32),
          v('method', 16, { isNullable: true }),
          v('outcome', 32),
          v('account_id', 80, { isNullable: true }),
          v('person_id', 64, { isNullable: true }),
          v('actor_account_id', 80, { isNullable: true }),
          v('actor_role', 16),
          v('client_address', 64, { isNullable: true }),
          v('detail', 100, { isNullable: true }),
        ],
        indices: [{ columnNames: ['account_id', 'occurred_at'] }, { columnNames: ['occurred_at'] }],
      }),
    );
    if (q.connection.options.type === 'postgres') {
      await q.query(`CREATE OR REPLACE FUNCTION identity_audit_append_only() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'identity_audit_event is append-only'; END; $$ LANGUAGE plpgsql`);
      await q.query(`CREATE TRIGGER identity_audit_no_change BEFORE UPDATE OR DELETE ON identity_audit_event
        FOR EACH ROW EXECUTE FUNCTION identity_audit_append_only()`);
    } else {
      await q.query(`CREATE TRIGGER identity_audit_no_update BEFORE UPDATE ON identity_audit_event
        BEGIN SELECT RAISE(ABORT, 'identity_audit_event is append-only'); END`);
      await q.query(`CREATE TRIGGER identity_audit_no_delete BEFORE DELETE ON identity_audit_event
        BEGIN SELECT RAISE(ABORT, 'identity_audit_event is append-only'); END`);
    }
    await q.createTable(
      new Table({
        name: 'identity_notice',
        columns: [
          v('id', 36, { isPrimary: true }),
          v('person_id', 64),
          v('account_id', 64),
          v('kind', 32),
          v('subject', 120),
          v('body', 2000),
          v('created_at', 32),
          { name: 'attempts', type: 'integer', default: 0 },
          v('next_attempt_at', 32),
          v('delivered_at', 32, { isNullable: true }),
          v('lease_by', 36, { isNullable: true }),
          v('lease_until', 32, { isNullable: true }),
          v('last_error', 64, { isNullable: true }),
        ],
        indices: [{ columnNames: ['delivered_at', 'next_attempt_at'] }, { columnNames: ['account_id'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('identity_notice');
    await q.dropTable('identity_audit_event');
    if (q.connection.options.type === 'postgres') await q.query('DROP FUNCTION IF EXISTS identity_audit_append_only()');
  }
}
