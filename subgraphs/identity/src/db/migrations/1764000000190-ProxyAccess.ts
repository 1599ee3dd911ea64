import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { varcharColumn as v } from '@portal/kit';

/**
 * Proxy access: a parent's or legal guardian's link to a child (what it gives
 * depends on the child's age on the day it is asked, so no scopes or end are
 * stored), and an adult patient's grants to a caregiver (chosen scopes, until
 * an end date or revocation). Grants are never deleted: the grantor lists the
 * ended ones too, and the audit trail names their ids.
 */
export class ProxyAccess1764000000190 implements MigrationInterface {
  name = 'ProxyAccess1764000000190';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'guardian_link',
        columns: [v('guardian_person_id', 64, { isPrimary: true }), v('child_person_id', 64, { isPrimary: true }), v('created_at', 32)],
        foreignKeys: [
          { columnNames: ['guardian_person_id'], referencedTableName: 'person', referencedColumnNames: ['id'] },
          { columnNames: ['child_person_id'], referencedTableName: 'person', referencedColumnNames: ['id'] },
        ],
        // The primary key serves "whose guardian am I" (the proxy's question); this one "who are my guardians".
        indices: [{ columnNames: ['child_person_id'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'proxy_grant',
        columns: [
          v('id', 36, { isPrimary: true }),
          v('grantor_person_id', 64),
          v('proxy_person_id', 64),
          // Space-separated ProxyScope names, e.g. `APPOINTMENTS MESSAGES`.
          v('scopes', 200),
          // The last day the grant gives access (inclusive), YYYY-MM-DD.
          v('ends_on', 10),
          v('created_at', 32),
          v('revoked_at', 32, { isNullable: true }),
        ],
        foreignKeys: [
          { columnNames: ['grantor_person_id'], referencedTableName: 'person', referencedColumnNames: ['id'] },
          { columnNames: ['proxy_person_id'], referencedTableName: 'person', referencedColumnNames: ['id'] },
        ],
        // A proxy's live grants (asked on every request a proxy makes), and a grantor's grants, newest first.
        indices: [{ columnNames: ['proxy_person_id', 'grantor_person_id'] }, { columnNames: ['grantor_person_id', 'created_at'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('proxy_grant');
    await q.dropTable('guardian_link');
  }
}
