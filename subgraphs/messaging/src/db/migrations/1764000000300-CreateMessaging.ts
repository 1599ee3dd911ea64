import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { varcharColumn as v } from '@portal/kit';

const threadFk = { columnNames: ['thread_id'], referencedTableName: 'message_thread', referencedColumnNames: ['id'] };

export class CreateMessaging1764000000300 implements MigrationInterface {
  name = 'CreateMessaging1764000000300';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'message_thread',
        columns: [
          v('id', 64, { isPrimary: true }),
          v('patient_id', 64),
          v('care_team_id', 64),
          v('subject', 200),
          v('category', 16),
          v('source', 16),
          v('created_at', 32),
          v('last_message_at', 32),
        ],
        // Both lists (a patient's folders, a team's inbox) are paged newest first by (last_message_at, id).
        indices: [{ columnNames: ['patient_id', 'last_message_at', 'id'] }, { columnNames: ['care_team_id', 'last_message_at', 'id'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'message',
        columns: [
          v('id', 64, { isPrimary: true }),
          v('thread_id', 64),
          v('sender_id', 64),
          v('sender_role', 16),
          v('sender_name', 200),
          { name: 'body', type: 'text' },
          v('sent_at', 32),
          v('idempotency_key', 128, { isNullable: true }),
        ],
        foreignKeys: [threadFk],
        indices: [{ columnNames: ['thread_id', 'sent_at'] }, { columnNames: ['sender_id', 'thread_id'] }],
      }),
    );
    // A retried send finds the first message by this key instead of storing a second one.
    // NULL keys are distinct on both databases, so messages sent without a key never collide.
    await q.createIndex(
      'message',
      new TableIndex({ name: 'message_sender_idempotency_unique', columnNames: ['sender_id', 'idempotency_key'], isUnique: true }),
    );
    await q.createTable(
      new Table({
        name: 'thread_reader_state',
        columns: [
          v('thread_id', 64, { isPrimary: true }),
          v('reader_id', 64, { isPrimary: true }),
          v('last_read_at', 32, { isNullable: true }),
          v('archived_at', 32, { isNullable: true }),
        ],
        foreignKeys: [threadFk],
        indices: [{ columnNames: ['reader_id'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'message_draft',
        columns: [
          v('id', 64, { isPrimary: true }),
          v('author_id', 64),
          v('patient_id', 64),
          v('care_team_id', 64),
          v('thread_id', 64, { isNullable: true }),
          v('category', 16, { isNullable: true }),
          v('subject', 200, { isNullable: true }),
          { name: 'body', type: 'text' },
          v('created_at', 32),
          v('updated_at', 32),
        ],
        foreignKeys: [threadFk],
        indices: [{ columnNames: ['thread_id'] }],
      }),
    );
    // One reply draft per author and thread; drafts of new threads (thread_id NULL) are not limited.
    await q.createIndex(
      'message_draft',
      new TableIndex({ name: 'message_draft_author_thread_unique', columnNames: ['author_id', 'thread_id'], isUnique: true }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['message_draft', 'thread_reader_state', 'message', 'message_thread']) await q.dropTable(t);
  }
}
