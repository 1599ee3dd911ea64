import { In, type DataSource } from 'typeorm';
import { execute, placeholders, sql } from '@portal/kit';
import {
  AccountEntity,
  AffiliationEntity,
  CareTeamEntity,
  CareTeamMemberEntity,
  PersonEntity,
  PivCardEntity,
  ServiceClientEntity,
  SessionEntity,
  type AccountRow,
  type AffiliationRow,
  type CareTeamRow,
  type PersonRow,
  type PivCardRow,
  type ServiceClientRow,
  type SessionRow,
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

  // ---------------------------------------------------------------- accounts and people

  personByDodId(dodId: string): Promise<PersonRow | null> {
    return this.db.getRepository(PersonEntity).findOneBy({ dodId });
  }

  accountsOfPerson(personId: string): Promise<AccountRow[]> {
    return this.db.getRepository(AccountEntity).find({ where: { personId }, order: { createdAt: 'DESC', id: 'ASC' } });
  }

  async insertAccount(account: AccountRow): Promise<void> {
    await this.db.getRepository(AccountEntity).insert(account);
  }

  /** Gives a smart-card-only account a DS Logon username and password; false when it is no longer that. */
  async addDsLogon(accountId: string, username: string, passwordHash: string): Promise<boolean> {
    return (
      (await execute(
        this.db,
        `UPDATE account SET username = $2, password_hash = $3 WHERE id = $1 AND username IS NULL AND status = 'ACTIVE'`,
        [accountId, username, passwordHash],
      )) === 1
    );
  }

  async deactivateAccount(accountId: string, at: Date): Promise<void> {
    await execute(this.db, `UPDATE account SET status = 'DEACTIVATED', deactivated_at = $2 WHERE id = $1 AND status = 'ACTIVE'`, [accountId, at.toISOString()]);
  }

  // ---------------------------------------------------------------- sessions

  async createSession(session: SessionRow): Promise<void> {
    await this.db.getRepository(SessionEntity).insert(session);
  }

  sessionById(id: string): Promise<SessionRow | null> {
    return this.db.getRepository(SessionEntity).findOneBy({ id });
  }

  async touchSession(id: string, at: Date): Promise<void> {
    await execute(this.db, 'UPDATE session SET last_seen_at = $2 WHERE id = $1 AND ended_at IS NULL', [id, at.toISOString()]);
  }

  async endSession(id: string, at: Date): Promise<void> {
    await execute(this.db, 'UPDATE session SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL', [id, at.toISOString()]);
  }

  async endSessionsOf(accountId: string, at: Date): Promise<void> {
    await execute(this.db, 'UPDATE session SET ended_at = $2 WHERE account_id = $1 AND ended_at IS NULL', [accountId, at.toISOString()]);
  }

  // ---------------------------------------------------------------- smart cards

  /**
   * Records a challenge's use: an insert of its nonce that only the first
   * caller gets to make (primary key), so of any number of racing attempts on
   * any instance exactly one gets `true`, and only once.
   */
  async useChallenge(nonce: string, expiresAt: Date): Promise<boolean> {
    return (
      (await execute(this.db, 'INSERT INTO smartcard_challenge_used (nonce, expires_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING', [
        nonce,
        expiresAt.toISOString(),
      ])) === 1
    );
  }

  /** Forgets used challenges that expired before `before`: an expired challenge is refused by its expiry alone. */
  async purgeUsedChallenges(before: Date): Promise<void> {
    await execute(this.db, 'DELETE FROM smartcard_challenge_used WHERE expires_at < $1', [before.toISOString()]);
  }

  pivCardByUuid(cardUuid: string): Promise<PivCardRow | null> {
    return this.db.getRepository(PivCardEntity).findOneBy({ cardUuid });
  }

  pivCardsOfAccounts(accountIds: readonly string[]): Promise<PivCardRow[]> {
    return this.db.getRepository(PivCardEntity).find({ where: { accountId: In([...accountIds]) }, order: { registeredAt: 'ASC' } });
  }

  async insertPivCard(card: PivCardRow): Promise<void> {
    await this.db.getRepository(PivCardEntity).insert(card);
  }

  /** Moves a registration to another account only if it still points where the caller saw it. */
  async relinkPivCard(id: string, fromAccountId: string, card: Pick<PivCardRow, 'accountId' | 'fingerprint' | 'registeredAt'>): Promise<boolean> {
    return (
      (await execute(
        this.db,
        'UPDATE piv_card SET account_id = $3, fingerprint = $4, registered_at = $5 WHERE id = $1 AND account_id = $2',
        [id, fromAccountId, card.accountId, card.fingerprint, card.registeredAt],
      )) === 1
    );
  }

  // ---------------------------------------------------------------- service credentials

  async insertServiceClient(client: ServiceClientRow): Promise<void> {
    await this.db.getRepository(ServiceClientEntity).insert(client);
  }

  serviceClientById(clientId: string): Promise<ServiceClientRow | null> {
    return this.db.getRepository(ServiceClientEntity).findOneBy({ clientId });
  }
}
