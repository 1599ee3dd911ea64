import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A care team's inbox lists and counts its sent (OPEN) threads, newest first:
 * a partial index of those alone, in that order, so the first page is a short
 * backward walk and the count reads the index only, however many thousands of
 * patients the team has. Plain SQL, the same on both databases.
 */
export class TeamOpenThreads1764000000302 implements MigrationInterface {
  name = 'TeamOpenThreads1764000000302';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX message_thread_team_open ON message_thread (care_team_id, last_message_at, id) WHERE state = 'OPEN'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX message_thread_team_open');
  }
}
