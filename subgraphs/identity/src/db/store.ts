import { type DataSource, type EntityManager } from 'typeorm';
import { execute, placeholders, runChange, sql } from '@portal/kit';
import {
  AccountEntity,
  IdentityAuditEntity,
  NoticeEntity,
  PersonEntity,
  PivCardEntity,
  ServiceClientEntity,
  SessionEntity,
  type AccountRow,
  type AffiliationRow,
  type CareTeamRow,
  type IdentityAuditRow,
  type NoticeRow,
  type PersonRow,
  type PivCardRow,
  type ProxyGrantRow,
  type ServiceClientRow,
  type SessionRow,
} from './entities';

const GRANT_COLUMNS = `id, grantor_person_id AS "grantorPersonId", proxy_person_id AS "proxyPersonId", scopes, ends_on AS "endsOn",
       created_at AS "createdAt", revoked_at AS "revokedAt"`;

/** Every SQL statement of the identity subgraph. */
export class IdentityStore {
  constructor(private readonly db: DataSource | EntityManager) {}

  /**
   * Runs `work` in one transaction with a store bound to it. On SQLite the
   * change queues behind the others of this process (kit's runChange), since
   * every request shares one connection and transactions would nest.
   */
  /**
   * A write outside any transaction of ours: on SQLite it queues like a
   * change, so it never lands inside another request's open transaction on
   * the shared connection (and is never undone by that one's rollback).
   */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const db = this.db;
    return 'options' in db ? runChange(db, work) : work();
  }

  transaction<T>(work: (tx: IdentityStore) => Promise<T>): Promise<T> {
    const db = this.db;
    if (!('transaction' in db) || !('options' in db)) return work(this);
    return runChange(db, () => db.transaction((manager) => work(new IdentityStore(manager))));
  }

  // The reads every request makes (the viewer's person, account, affiliations, session, care
  // teams) are plain SQL rather than TypeORM's query builder, which cost identity about a
  // fifth of its CPU per PortalView in building the statement and mapping the rows.

  async peopleByIds(ids: readonly string[]): Promise<PersonRow[]> {
    if (ids.length === 0) return [];
    return sql<PersonRow>(
      this.db,
      `SELECT id, kind, dod_id AS "dodId", given_name AS "givenName", middle_name AS "middleName", family_name AS "familyName",
              date_of_birth AS "dateOfBirth", specialty
         FROM person WHERE id IN (${placeholders(ids.length)})`,
      [...ids],
    );
  }

  async accountsByIds(ids: readonly string[]): Promise<AccountRow[]> {
    if (ids.length === 0) return [];
    return sql<AccountRow>(
      this.db,
      `SELECT id, person_id AS "personId", username, password_hash AS "passwordHash", role, status, created_at AS "createdAt",
              deactivated_at AS "deactivatedAt"
         FROM account WHERE id IN (${placeholders(ids.length)})`,
      [...ids],
    );
  }

  accountByUsername(username: string): Promise<AccountRow | null> {
    return this.db.getRepository(AccountEntity).findOneBy({ username });
  }

  async affiliationsOf(personIds: readonly string[]): Promise<AffiliationRow[]> {
    if (personIds.length === 0) return [];
    return sql<AffiliationRow>(
      this.db,
      `SELECT id, person_id AS "personId", organization, status, start_date AS "startDate", end_date AS "endDate"
         FROM affiliation WHERE person_id IN (${placeholders(personIds.length)})
        ORDER BY start_date ASC, id ASC`,
      [...personIds],
    );
  }

  /** Plain SQL: a hot read of every PortalView (TypeORM's find cost more CPU than the statement). */
  async careTeamsByIds(ids: readonly string[]): Promise<CareTeamRow[]> {
    if (ids.length === 0) return [];
    return sql<CareTeamRow>(this.db, `SELECT id AS "id", name AS "name" FROM care_team WHERE id IN (${placeholders(ids.length)})`, [...ids]);
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
    const rows = await sql<{ careTeamId: string }>(this.db, 'SELECT care_team_id AS "careTeamId" FROM care_team_member WHERE person_id = $1', [personId]);
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

  /** The lock-out state of a throttle key (known or not), or null when it has no failures in a row. */
  async throttleOf(key: string): Promise<{ failures: number; lockedUntil: string | null } | null> {
    const rows = await sql<{ failures: number; locked_until: string | null }>(
      this.db,
      'SELECT failures, locked_until FROM sign_in_throttle WHERE username_key = $1',
      [key],
    );
    return rows[0] ? { failures: Number(rows[0].failures), lockedUntil: rows[0].locked_until } : null;
  }

  /**
   * Reserves one attempt for `key` in one statement, counted as a failure
   * until released: a key whose lock has not ended gets no row back (null).
   * `lockAfter(n)` is the end of the lock the n-th failure in a row sets, or
   * null for none; it is handed to the database as a CASE over the counts
   * 1..`steps.length`, the last entry standing for every count above.
   * Racing reservations queue on the row (PostgreSQL row lock, SQLite's
   * single writer), so no more of them pass than the lock allows.
   */
  async reserveAttempt(key: string, now: string, steps: (string | null)[]): Promise<{ failures: number; lockedUntil: string | null } | null> {
    const params: unknown[] = [key, now, steps[0]];
    const whens = steps.slice(0, -1).map((until, i) => {
      params.push(i + 1, until);
      return `WHEN sign_in_throttle.failures + 1 = $${params.length - 1} THEN $${params.length}`;
    });
    params.push(steps[steps.length - 1]);
    const rows = await this.serial(() => sql<{ failures: number; locked_until: string | null }>(
      this.db,
      `INSERT INTO sign_in_throttle (username_key, failures, locked_until) VALUES ($1, 1, $3)
       ON CONFLICT (username_key) DO UPDATE SET
         failures = sign_in_throttle.failures + 1,
         locked_until = CASE ${whens.join(' ')} ELSE $${params.length} END
       WHERE sign_in_throttle.locked_until IS NULL OR sign_in_throttle.locked_until <= $2
       RETURNING failures, locked_until`,
      params,
    ));
    return rows[0] ? { failures: Number(rows[0].failures), lockedUntil: rows[0].locked_until } : null;
  }

  /**
   * Clears the key's failures after a success, unless another attempt locked
   * it after this one was reserved (its count is no longer `failures` and a
   * lock is running). Returns whether the success stands.
   */
  async releaseAttempt(key: string, failures: number, now: string): Promise<boolean> {
    const deleted = await this.serial(() =>
      execute(this.db, 'DELETE FROM sign_in_throttle WHERE username_key = $1 AND (failures = $2 OR locked_until IS NULL OR locked_until <= $3)', [key, failures, now]),
    );
    if (deleted === 1) return true;
    const state = await this.throttleOf(key);
    return !state?.lockedUntil || state.lockedUntil <= now;
  }

  // ---------------------------------------------------------------- audit and notices

  async insertAudit(row: IdentityAuditRow): Promise<void> {
    await this.serial(() => this.db.getRepository(IdentityAuditEntity).insert(row));
  }

  async insertNotice(row: NoticeRow): Promise<void> {
    await this.db.getRepository(NoticeEntity).insert(row);
  }

  /** A patient's care team to write from: the first by name. */
  async firstCareTeamOf(personId: string): Promise<string | null> {
    const [team] = await this.careTeamsOf([personId]);
    return team?.id ?? null;
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

  /** False when the account was not active (any more). */
  async deactivateAccount(accountId: string, at: Date): Promise<boolean> {
    return 1 === await execute(this.db, `UPDATE account SET status = 'DEACTIVATED', deactivated_at = $2 WHERE id = $1 AND status = 'ACTIVE'`, [accountId, at.toISOString()]);
  }

  // ---------------------------------------------------------------- sessions

  async createSession(session: SessionRow): Promise<void> {
    await this.db.getRepository(SessionEntity).insert(session);
  }

  async sessionById(id: string): Promise<SessionRow | null> {
    const rows = await sql<SessionRow>(
      this.db,
      `SELECT id, account_id AS "accountId", method, created_at AS "createdAt", expires_at AS "expiresAt", ended_at AS "endedAt",
              last_seen_at AS "lastSeenAt"
         FROM session WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** Sessions neither ended nor past their end, used within the idle limit: for the portal_sessions_active metric. */
  async countActiveSessions(now: Date, idleSeconds: number): Promise<number> {
    const rows = await sql<{ n: number | string }>(
      this.db,
      'SELECT COUNT(*) AS n FROM session WHERE ended_at IS NULL AND expires_at > $1 AND COALESCE(last_seen_at, created_at) > $2',
      [now.toISOString(), new Date(now.getTime() - idleSeconds * 1000).toISOString()],
    );
    return Number(rows[0]?.n ?? 0);
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

  /** Plain SQL: a hot read of every PortalView (TypeORM's find cost more CPU than the statement). */
  async pivCardsOfAccounts(accountIds: readonly string[]): Promise<PivCardRow[]> {
    if (accountIds.length === 0) return [];
    return sql<PivCardRow>(
      this.db,
      `SELECT id AS "id", card_uuid AS "cardUuid", account_id AS "accountId", fingerprint AS "fingerprint", registered_at AS "registeredAt"
         FROM piv_card WHERE account_id IN (${placeholders(accountIds.length)}) ORDER BY registered_at, id`,
      [...accountIds],
    );
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

  // ---------------------------------------------------------------- proxy access

  /** The children of `guardianId` among `childIds` (all of them when not given), with their dates of birth. */
  async childrenOf(guardianId: string, childIds?: readonly string[]): Promise<{ childId: string; dateOfBirth: string }[]> {
    if (childIds && childIds.length === 0) return [];
    return sql(
      this.db,
      `SELECT g.child_person_id AS "childId", p.date_of_birth AS "dateOfBirth"
         FROM guardian_link g JOIN person p ON p.id = g.child_person_id
        WHERE g.guardian_person_id = $1${childIds ? ` AND g.child_person_id IN (${placeholders(childIds.length, 2)})` : ''}`,
      childIds ? [guardianId, ...childIds] : [guardianId],
    );
  }

  /**
   * The grants that give `proxyId` access on `today` (YYYY-MM-DD): not revoked
   * and not ended, of the grantors among `grantorIds` (all when not given).
   */
  async liveGrantsTo(proxyId: string, today: string, grantorIds?: readonly string[]): Promise<ProxyGrantRow[]> {
    if (grantorIds && grantorIds.length === 0) return [];
    return sql<ProxyGrantRow>(
      this.db,
      `SELECT ${GRANT_COLUMNS} FROM proxy_grant
        WHERE proxy_person_id = $1 AND revoked_at IS NULL AND ends_on >= $2${grantorIds ? ` AND grantor_person_id IN (${placeholders(grantorIds.length, 3)})` : ''}
        ORDER BY created_at DESC, id`,
      grantorIds ? [proxyId, today, ...grantorIds] : [proxyId, today],
    );
  }

  /**
   * Which of the (proxy, patient) pairs are or were proxy relations (a guardian
   * link, or a grant, ended ones too): one statement for all of a request's
   * pairs, as `proxyPair:<proxy>|<patient>` keys of the answer.
   */
  async proxyPairsActed(pairs: readonly { proxyId: string; patientId: string }[]): Promise<Set<string>> {
    if (pairs.length === 0) return new Set();
    const proxies = [...new Set(pairs.map((p) => p.proxyId))];
    const patients = [...new Set(pairs.map((p) => p.patientId))];
    const a = placeholders(proxies.length);
    const b = placeholders(patients.length, proxies.length + 1);
    const rows = await sql<{ proxyId: string; patientId: string }>(
      this.db,
      `SELECT guardian_person_id AS "proxyId", child_person_id AS "patientId" FROM guardian_link WHERE guardian_person_id IN (${a}) AND child_person_id IN (${b})
       UNION
       SELECT proxy_person_id AS "proxyId", grantor_person_id AS "patientId" FROM proxy_grant WHERE proxy_person_id IN (${a}) AND grantor_person_id IN (${b})`,
      [...proxies, ...patients],
    );
    return new Set(rows.map((r) => proxyPairKey(r.proxyId, r.patientId)));
  }


  /** Every grant `grantorId` gave, ended ones too, newest first. */
  async grantsBy(grantorId: string): Promise<ProxyGrantRow[]> {
    return sql<ProxyGrantRow>(this.db, `SELECT ${GRANT_COLUMNS} FROM proxy_grant WHERE grantor_person_id = $1 ORDER BY created_at DESC, id`, [grantorId]);
  }

  async grantById(id: string): Promise<ProxyGrantRow | null> {
    const rows = await sql<ProxyGrantRow>(this.db, `SELECT ${GRANT_COLUMNS} FROM proxy_grant WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** Grants of `grantorId` neither revoked nor ended on `today`. */
  async countLiveGrantsBy(grantorId: string, today: string): Promise<number> {
    const rows = await sql<{ n: number | string }>(
      this.db,
      'SELECT COUNT(*) AS n FROM proxy_grant WHERE grantor_person_id = $1 AND revoked_at IS NULL AND ends_on >= $2',
      [grantorId, today],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async insertGrant(row: ProxyGrantRow): Promise<void> {
    await execute(
      this.db,
      'INSERT INTO proxy_grant (id, grantor_person_id, proxy_person_id, scopes, ends_on, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [row.id, row.grantorPersonId, row.proxyPersonId, row.scopes, row.endsOn, row.createdAt, row.revokedAt],
    );
  }

  /** Revokes the grant once; false when it was revoked already (or is not `grantorId`'s). */
  async revokeGrant(id: string, grantorId: string, at: Date): Promise<boolean> {
    return 1 === (await execute(this.db, 'UPDATE proxy_grant SET revoked_at = $3 WHERE id = $1 AND grantor_person_id = $2 AND revoked_at IS NULL', [id, grantorId, at.toISOString()]));
  }

  /** Grants `grantorId` created since `since`, and the oldest of them (for the daily bound). */
  async grantsCreatedSince(grantorId: string, since: Date): Promise<{ count: number; oldest: string | null }> {
    const rows = await sql<{ n: number | string; oldest: string | null }>(
      this.db,
      'SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM proxy_grant WHERE grantor_person_id = $1 AND created_at >= $2',
      [grantorId, since.toISOString()],
    );
    return { count: Number(rows[0]?.n ?? 0), oldest: rows[0]?.oldest ?? null };
  }

  async insertGuardianLink(guardianId: string, childId: string, at: Date): Promise<void> {
    await this.serial(() => execute(this.db, 'INSERT INTO guardian_link (guardian_person_id, child_person_id, created_at) VALUES ($1, $2, $3)', [guardianId, childId, at.toISOString()]));
  }

  // ---------------------------------------------------------------- service credentials

  async insertServiceClient(client: ServiceClientRow): Promise<void> {
    await this.db.getRepository(ServiceClientEntity).insert(client);
  }

  serviceClientById(clientId: string): Promise<ServiceClientRow | null> {
    return this.db.getRepository(ServiceClientEntity).findOneBy({ clientId });
  }
}

/** The key of a (proxy, patient) pair in `proxyPairsActed`'s answer. */
export const proxyPairKey = (proxyId: string, patientId: string): string => `${proxyId}|${patientId}`;
