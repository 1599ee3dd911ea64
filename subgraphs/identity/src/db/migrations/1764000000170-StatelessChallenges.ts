import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { varcharColumn as v } from '@portal/kit';

/**
 * Challenges are no longer stored when issued (they are MACed, see
 * smartcard/challenge.ts): the table of issued challenges goes, and a table of
 * used ones, keyed by nonce, takes its place.
 */
export class StatelessChallenges1764000000170 implements MigrationInterface {
  name = 'StatelessChallenges1764000000170';

  async up(q: QueryRunner): Promise<void> {
    await q.dropTable('smartcard_challenge');
    await q.createTable(
      new Table({
        name: 'smartcard_challenge_used',
        columns: [v('nonce', 64, { isPrimary: true }), v('expires_at', 32)],
        indices: [{ columnNames: ['expires_at'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('smartcard_challenge_used');
    await q.createTable(
      new Table({
        name: 'smartcard_challenge',
        columns: [v('challenge', 64, { isPrimary: true }), v('created_at', 32), v('expires_at', 32), v('used_at', 32, { isNullable: true })],
        indices: [{ columnNames: ['expires_at'] }],
      }),
    );
  }
}
