import { randomUUID } from 'node:crypto';
import { In, type DataSource } from 'typeorm';
import { execute, placeholders, sql } from '@portal/kit';
import {
  AccountEntity,
  AffiliationEntity,
  CareTeamEntity,
  CareTeamMemberEntity,
  PersonEntity,
  SessionEntity,
  type AccountRow,
  type AffiliationRow,
  type CareTeamRow,
  type PersonRow,
} from './entities';

/** Every SQL statement of the identity subgraph. */
export class IdentityStore {
  constructor(private readonly db: DataSource) {}

  peopleByIds(ids: readonly string[]): Promise<PersonRow[]> {
    return this.db.getRepository(PersonEntity).findBy({ id: In([...ids]) });
  }

  accountsByIds(ids: readonly string[]): Promise<AccountRow[]> {
    return this.db.getRepository(AccountEntity).findBy({ id: In([...ids]) });
  }

  accountByUsername(username: string): Promise<AccountRow | null> {
    return this.db.getRepository(AccountEntity).findOneBy({ username });
  }

  affiliationsOf(personIds: readonly string[]): Promise<AffiliationRow[]> {
    return this.db.getRepository(AffiliationEntity).find({
      where: { personId: In([...personIds]) },
      order: { startDate: 'ASC', id: 'ASC' },
    });
  }

  careTeamsByIds(ids: readonly string[]): Promise<CareTeamRow[]> {
    return this.db.getRepository(CareTeamEntity).findBy({ id: In([...ids]) });
  }

  /** (personId, team) pairs for the given people, teams by name. */
  async careTeamsOf(personIds: readonly string[]): Promise<(CareTeamRow & { personId: string })[]> {
    if (personIds.length === 0) return [];
    return sql(
      this.db,
      `SELECT m.person_id AS "personId", t.id AS "id", t.name AS "name"
         FROM care_team_member m JOIN care_team t ON t.id = m.care_team_id
        WHERE m.person_id IN (${placeholders(personIds.length)})
        ORDER BY t.name, t.id`,
      [...personIds],
    );
  }

  async careTeamIdsOf(personId: string): Promise<string[]> {
    const rows = await this.db.getRepository(CareTeamMemberEntity).findBy({ personId });
    return rows.map((r) => r.careTeamId).sort();
  }

  /** Which of `patientIds` share a care team with the practitioner. */
  async patientsTreatedBy(practitionerId: string, patientIds: readonly string[]): Promise<Set<string>> {
    if (patientIds.length === 0) return new Set();
    const rows = await sql<{ person_id: string }>(
      this.db,
      `SELECT DISTINCT p.person_id
         FROM care_team_member p
         JOIN care_team_member me ON me.care_team_id = p.care_team_id AND me.person_id = $1
        WHERE p.person_id IN (${placeholders(patientIds.length, 2)})`,
      [practitionerId, ...patientIds],
    );
    return new Set(rows.map((r) => r.person_id));
  }

  /** The lock-out state of a username (known or not), or null when it never failed. */
  async throttleOf(usernameKey: string): Promise<{ failures: number; lockedUntil: string | null } | null> {
    const rows = await sql<{ failures: number; locked_until: string | null }>(
      this.db,
      'SELECT failures, locked_until FROM sign_in_throttle WHERE username_key = $1',
      [usernameKey],
    );
    return rows[0] ? { failures: Number(rows[0].failures), lockedUntil: rows[0].locked_until } : null;
  }

  /** Counts one more failure atomically and returns the new count in a row. */
  async recordFailure(usernameKey: string): Promise<number> {
    const rows = await sql<{ failures: number }>(
      this.db,
      `INSERT INTO sign_in_throttle (username_key, failures, locked_until) VALUES ($1, 1, NULL)
       ON CONFLICT (username_key) DO UPDATE SET failures = sign_in_throttle.failures + 1
       RETURNING failures`,
      [usernameKey],
    );
    return Number(rows[0]?.failures ?? 1);
  }

  async lock(usernameKey: string, until: Date): Promise<void> {
    await execute(this.db, 'UPDATE sign_in_throttle SET failures = 0, locked_until = $2 WHERE username_key = $1', [usernameKey, until.toISOString()]);
  }

  async clearFailures(usernameKey: string): Promise<void> {
    await execute(this.db, 'DELETE FROM sign_in_throttle WHERE username_key = $1', [usernameKey]);
  }

  async createSession(accountId: string, method: string, expiresAt: Date): Promise<string> {
    const id = randomUUID();
    await this.db.getRepository(SessionEntity).insert({
      id,
      accountId,
      method,
      createdAt: new Date().toISOString(),
      expiresAt: expiresAt.toISOString(),
      endedAt: null,
    });
    return id;
  }
}
