import { EntitySchema } from 'typeorm';

/** Stored statuses only: EXPIRED is computed from `expiresOn`, never stored. */
export type StoredPrescriptionStatus = 'ACTIVE' | 'DISCONTINUED';
export type RequestKind = 'REFILL' | 'RENEWAL';
export type RequestStatus = 'PENDING' | 'APPROVED' | 'DENIED' | 'COMPLETED';

export interface MedicationRow {
  rxnormCode: string;
  name: string;
  strength: string;
  form: string;
}

export interface PrescriptionRow {
  id: string;
  patientId: string;
  medicationCode: string;
  directions: string;
  quantity: number;
  daysSupply: number;
  refillsAuthorized: number;
  refillsRemaining: number;
  /** YYYY-MM-DD */
  writtenOn: string;
  /** YYYY-MM-DD, the last day the prescription may be used. */
  expiresOn: string;
  status: StoredPrescriptionStatus;
  prescriberId: string;
  /** The prescription this one renewed (an approved renewal creates a new prescription). */
  renewedFromId: string | null;
  discontinuedAt: string | null;
  createdAt: string;
  /** The care team the prescription was written in: a decision's message to the patient comes from it. */
  careTeamId: string | null;
}

export interface FillRow {
  id: string;
  prescriptionId: string;
  filledOn: string;
  quantity: number;
}

export interface PharmacyRequestRow {
  id: string;
  prescriptionId: string;
  patientId: string;
  kind: RequestKind;
  status: RequestStatus;
  requestedAt: string;
  /** Person id of whoever asked (the patient, later also a proxy). */
  requestedBy: string;
  note: string | null;
  decidedAt: string | null;
  decidedBy: string | null;
  decisionNote: string | null;
  /** The prescription an approved renewal created. */
  newPrescriptionId: string | null;
  /** Scoped to `requestedBy`: the same key sent again returns the first request. */
  idempotencyKey: string | null;
}

/**
 * A secure message to the patient, stored in the transaction of the change it
 * reports (a renewal decision) and delivered to messaging afterwards, with
 * retries, until messaging accepts it.
 */
export interface OutboxRow {
  id: string;
  /** postCareTeamMessage's idempotencyKey, e.g. `renewal-decision:<requestId>`. */
  idempotencyKey: string;
  requestId: string;
  patientId: string;
  careTeamId: string;
  category: 'MEDICATION';
  subject: string;
  /** Plain text. */
  body: string;
  senderName: string;
  createdAt: string;
  /** Delivery attempts started (a claim counts as one). */
  attempts: number;
  /** Attempts messaging refused for good (e.g. BAD_USER_INPUT); at OUTBOX_MAX_REFUSALS the row is dead. */
  refusals: number;
  nextAttemptAt: string;
  /** While set and in the future, one worker is delivering the row. */
  lockedUntil: string | null;
  lockedBy: string | null;
  deliveredAt: string | null;
  /** When the worker gave up on the row (never tried again); kept for operators until purged. */
  deadAt: string | null;
  /** The class of the last failure, e.g. `HTTP 503`, `NetworkError`; never a response body. */
  lastError: string | null;
}

const varchar = (length: number, extra: object = {}) => ({ type: 'varchar' as const, length, ...extra });
const integer = (extra: object = {}) => ({ type: 'integer' as const, ...extra });

export const MedicationEntity = new EntitySchema<MedicationRow>({
  name: 'Medication',
  tableName: 'medication',
  columns: {
    rxnormCode: varchar(16, { name: 'rxnorm_code', primary: true }),
    name: varchar(120),
    strength: varchar(40),
    form: varchar(40),
  },
});

export const PrescriptionEntity = new EntitySchema<PrescriptionRow>({
  name: 'Prescription',
  tableName: 'prescription',
  columns: {
    id: varchar(64, { primary: true }),
    patientId: varchar(64, { name: 'patient_id' }),
    medicationCode: varchar(16, { name: 'medication_code' }),
    directions: varchar(500),
    quantity: integer(),
    daysSupply: integer({ name: 'days_supply' }),
    refillsAuthorized: integer({ name: 'refills_authorized' }),
    refillsRemaining: integer({ name: 'refills_remaining' }),
    writtenOn: varchar(10, { name: 'written_on' }),
    expiresOn: varchar(10, { name: 'expires_on' }),
    status: varchar(16),
    prescriberId: varchar(64, { name: 'prescriber_id' }),
    renewedFromId: varchar(64, { name: 'renewed_from_id', nullable: true }),
    discontinuedAt: varchar(32, { name: 'discontinued_at', nullable: true }),
    createdAt: varchar(32, { name: 'created_at' }),
    careTeamId: varchar(64, { name: 'care_team_id', nullable: true }),
  },
});

export const FillEntity = new EntitySchema<FillRow>({
  name: 'Fill',
  tableName: 'fill',
  columns: {
    id: varchar(64, { primary: true }),
    prescriptionId: varchar(64, { name: 'prescription_id' }),
    filledOn: varchar(10, { name: 'filled_on' }),
    quantity: integer(),
  },
});

export const PharmacyRequestEntity = new EntitySchema<PharmacyRequestRow>({
  name: 'PharmacyRequest',
  tableName: 'pharmacy_request',
  columns: {
    id: varchar(64, { primary: true }),
    prescriptionId: varchar(64, { name: 'prescription_id' }),
    patientId: varchar(64, { name: 'patient_id' }),
    kind: varchar(16),
    status: varchar(16),
    requestedAt: varchar(32, { name: 'requested_at' }),
    requestedBy: varchar(64, { name: 'requested_by' }),
    note: varchar(1000, { nullable: true }),
    decidedAt: varchar(32, { name: 'decided_at', nullable: true }),
    decidedBy: varchar(64, { name: 'decided_by', nullable: true }),
    decisionNote: varchar(1000, { name: 'decision_note', nullable: true }),
    newPrescriptionId: varchar(64, { name: 'new_prescription_id', nullable: true }),
    idempotencyKey: varchar(128, { name: 'idempotency_key', nullable: true }),
  },
});

export const OutboxEntity = new EntitySchema<OutboxRow>({
  name: 'PharmacyOutbox',
  tableName: 'pharmacy_outbox',
  columns: {
    id: varchar(64, { primary: true }),
    idempotencyKey: varchar(100, { name: 'idempotency_key' }),
    requestId: varchar(64, { name: 'request_id' }),
    patientId: varchar(64, { name: 'patient_id' }),
    careTeamId: varchar(64, { name: 'care_team_id' }),
    category: varchar(16),
    subject: varchar(120),
    body: { type: 'text' },
    senderName: varchar(100, { name: 'sender_name' }),
    createdAt: varchar(32, { name: 'created_at' }),
    attempts: integer(),
    refusals: integer(),
    nextAttemptAt: varchar(32, { name: 'next_attempt_at' }),
    lockedUntil: varchar(32, { name: 'locked_until', nullable: true }),
    lockedBy: varchar(64, { name: 'locked_by', nullable: true }),
    deliveredAt: varchar(32, { name: 'delivered_at', nullable: true }),
    deadAt: varchar(32, { name: 'dead_at', nullable: true }),
    lastError: varchar(200, { name: 'last_error', nullable: true }),
  },
});

export const entities = [MedicationEntity, PrescriptionEntity, FillEntity, PharmacyRequestEntity, OutboxEntity];
