import { In, type DataSource, type EntityManager } from 'typeorm';
import { execute, isPostgres, placeholders, selectRows, sql, type RowFilter } from '@portal/kit';
import {
  FillEntity,
  MedicationEntity,
  OutboxEntity,
  PharmacyRequestEntity,
  PrescriptionEntity,
  type FillRow,
  type MedicationRow,
  type OutboxRow,
  type PharmacyRequestRow,
  type PrescriptionRow,
  type RequestKind,
  type RequestStatus,
} from './entities';

/** What a decision writes onto the request it claims. */
export interface DecisionStamp {
  status: Exclude<RequestStatus, 'PENDING'>;
  decidedAt: string;
  decidedBy: string;
  decisionNote: string | null;
}

/** The status filter of Patient.prescriptions; EXPIRED and ACTIVE depend on today's date. */
export type PrescriptionFilter = 'ACTIVE' | 'EXPIRED' | 'DISCONTINUED' | null;

/**
 * Every SQL statement of the pharmacy subgraph. Each read takes many keys, one
 * statement for all. Built on the data source, or on a transaction's entity
 * manager for the statements of one change.
 */
export class PharmacyStore {
  constructor(private readonly db: DataSource | EntityManager) {}

  /** The same statements inside transaction `tx`. */
  within(tx: EntityManager): PharmacyStore {
    return new PharmacyStore(tx);
  }

  get postgres(): boolean {
    return isPostgres(this.db);
  }

  medicationsByCodes(codes: readonly string[]): Promise<MedicationRow[]> {
    if (codes.length === 0) return Promise.resolve([]);
    return selectRows(this.db, MedicationEntity, { in: ['rxnormCode', codes] });
  }

  prescriptionsByIds(ids: readonly string[]): Promise<PrescriptionRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return selectRows(this.db, PrescriptionEntity, { in: ['id', ids] });
  }

  /** The patients' prescriptions, newest written first, in one statement. */
  prescriptionsOfPatients(patientIds: readonly string[], filter: PrescriptionFilter, today: string): Promise<PrescriptionRow[]> {
    if (patientIds.length === 0) return Promise.resolve([]);
    const where: RowFilter<PrescriptionRow> = { in: ['patientId', patientIds] };
    if (filter === 'DISCONTINUED') where.equals = { status: 'DISCONTINUED' };
    if (filter === 'ACTIVE') Object.assign(where, { equals: { status: 'ACTIVE' }, compare: [['expiresOn', '>=', today]] });
    if (filter === 'EXPIRED') Object.assign(where, { equals: { status: 'ACTIVE' }, compare: [['expiresOn', '<', today]] });
    return selectRows(this.db, PrescriptionEntity, where, [['writtenOn', 'DESC'], ['id', 'DESC']]);
  }

  /** Prescriptions created by renewing one of `ids`. */
  renewalsOf(ids: readonly string[]): Promise<PrescriptionRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return selectRows(this.db, PrescriptionEntity, { in: ['renewedFromId', ids] });
  }

  /** Fills of the prescriptions, newest first. */
  fillsOf(prescriptionIds: readonly string[]): Promise<FillRow[]> {
    if (prescriptionIds.length === 0) return Promise.resolve([]);
    return selectRows(this.db, FillEntity, { in: ['prescriptionId', prescriptionIds] }, [['filledOn', 'DESC'], ['id', 'DESC']]);
  }

  /** Requests of the prescriptions still waiting for staff, newest first. */
  pendingRequestsOf(prescriptionIds: readonly string[]): Promise<PharmacyRequestRow[]> {
    if (prescriptionIds.length === 0) return Promise.resolve([]);
    return selectRows(this.db, PharmacyRequestEntity, { in: ['prescriptionId', prescriptionIds], equals: { status: 'PENDING' } }, [['requestedAt', 'DESC'], ['id', 'DESC']]);
  }

  requestsByIds(ids: readonly string[]): Promise<PharmacyRequestRow[]> {
    return selectRows(this.db, PharmacyRequestEntity, { in: ['id', ids] });
  }

  // ---------------------------------------------------------------- the write side

  prescriptionById(id: string): Promise<PrescriptionRow | null> {
    return this.db.getRepository(PrescriptionEntity).findOneBy({ id });
  }

  requestById(id: string): Promise<PharmacyRequestRow | null> {
    return this.db.getRepository(PharmacyRequestEntity).findOneBy({ id });
  }

  /** The request this person already made with this key, if any. */
  requestByKey(requestedBy: string, idempotencyKey: string): Promise<PharmacyRequestRow | null> {
    return this.db.getRepository(PharmacyRequestEntity).findOneBy({ requestedBy, idempotencyKey });
  }

  /** Whether a newer prescription was created by renewing this one. */
  async isRenewed(prescriptionId: string): Promise<boolean> {
    return (await this.db.getRepository(PrescriptionEntity).countBy({ renewedFromId: prescriptionId })) > 0;
  }

  /**
   * Up to `limit` requests waiting for staff, oldest first (the queue's order),
   * after `after` when given: one index range of `pharmacy_request_queue_order`.
   */
  async pendingQueue(kind: RequestKind | null, limit: number, after: { requestedAt: string; id: string } | null = null): Promise<PharmacyRequestRow[]> {
    const params: unknown[] = [limit];
    const kindFilter = kind ? `AND kind = $${params.push(kind)}` : '';
    const keyset = after ? `AND (requested_at > $${params.push(after.requestedAt)} OR (requested_at = $${params.length} AND id > $${params.push(after.id)}))` : '';
    const rows = await sql<{ id: string }>(
      this.db,
      `SELECT id FROM pharmacy_request WHERE status = 'PENDING' ${kindFilter} ${keyset} ORDER BY requested_at, id LIMIT $1`,
      params,
    );
    if (rows.length === 0) return [];
    const byId = new Map((await this.db.getRepository(PharmacyRequestEntity).findBy({ id: In(rows.map((r) => r.id)) })).map((r) => [r.id, r]));
    return rows.map((r) => byId.get(r.id)).filter((r): r is PharmacyRequestRow => r !== undefined);
  }

  /** Which of `patientIds` have a request waiting for staff. */
  async patientsWithPendingRequests(patientIds: readonly string[]): Promise<Set<string>> {
    if (patientIds.length === 0) return new Set();
    const rows = await sql<{ patient_id: string }>(
      this.db,
      `SELECT DISTINCT patient_id FROM pharmacy_request WHERE status = 'PENDING' AND patient_id IN (${placeholders(patientIds.length)})`,
      [...patientIds],
    );
    return new Set(rows.map((r) => r.patient_id));
  }

  async insertLookup(row: { id: string; requestId: string; pharmacistId: string; patientId: string; reason: string; lookedUpAt: string }): Promise<void> {
    await execute(
      this.db,
      'INSERT INTO pharmacist_lookup (id, request_id, pharmacist_id, patient_id, reason, looked_up_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [row.id, row.requestId, row.pharmacistId, row.patientId, row.reason, row.lookedUpAt],
    );
  }

  /** Refused by `pharmacy_request_one_pending` or `pharmacy_request_idempotency` when a duplicate won the race. */
  async insertRequest(row: PharmacyRequestRow): Promise<void> {
    await this.db.getRepository(PharmacyRequestEntity).insert(row);
  }

  /**
   * Moves a PENDING request of `kind` to its decision. Returns false when it is
   * not PENDING (anymore): of two staff deciding at once, exactly one sees true.
   */
  async claimDecision(id: string, kind: RequestKind, d: DecisionStamp): Promise<boolean> {
    const affected = await execute(
      this.db,
      `UPDATE pharmacy_request SET status = $2, decided_at = $3, decided_by = $4, decision_note = $5
       WHERE id = $1 AND kind = $6 AND status = 'PENDING'`,
      [id, d.status, d.decidedAt, d.decidedBy, d.decisionNote, kind],
    );
    return affected === 1;
  }

  async linkNewPrescription(requestId: string, prescriptionId: string): Promise<void> {
    await execute(this.db, 'UPDATE pharmacy_request SET new_prescription_id = $2 WHERE id = $1', [requestId, prescriptionId]);
  }

  /** Refused by `prescription_renewed_from_unique` if the old prescription was renewed already. */
  async insertPrescription(row: PrescriptionRow): Promise<void> {
    await this.db.getRepository(PrescriptionEntity).insert(row);
  }

  /** One refill used; false when none was left (the check constraint would refuse it anyway). */
  async useRefill(prescriptionId: string): Promise<boolean> {
    const affected = await execute(
      this.db,
      'UPDATE prescription SET refills_remaining = refills_remaining - 1 WHERE id = $1 AND refills_remaining > 0',
      [prescriptionId],
    );
    return affected === 1;
  }

  async insertFill(row: FillRow): Promise<void> {
    await this.db.getRepository(FillEntity).insert(row);
  }

  // ---------------------------------------------------------------- the outbox

  async insertOutbox(row: OutboxRow): Promise<void> {
    await this.db.getRepository(OutboxEntity).insert(row);
  }

  outboxOfRequest(requestId: string): Promise<OutboxRow[]> {
    return this.db.getRepository(OutboxEntity).findBy({ requestId });
  }
}
