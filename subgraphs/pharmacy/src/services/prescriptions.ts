import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { badInput, notFound, runChange, type Access, type AuditTrail } from '@portal/kit';
import type { PharmacyStore } from '../db/store';
import type { MedicationRow, PharmacyRequestRow, PrescriptionRow } from '../db/entities';
import type { PrescriptionFilter } from '../db/store';
import { patientKey, type PharmacyLoaders } from '../loaders';
import { policy } from '../policy';
import { effectiveStatus, refillVerdict, renewalVerdict, type PrescriptionFacts, type PrescriptionStatus } from './eligibility';

/** What the service needs of a prescription already handed to the viewer. */
export interface PrescriptionRef {
  id: string;
  patientId: string;
  medicationCode: string;
  discontinued: boolean;
  refillsRemaining: number;
  expiresOn: string;
  renewedFromId: string | null;
}

/**
 * Reads of prescriptions and pharmacy requests, each checked against
 * `../policy.ts` (asked here, never by role).
 */
export class PrescriptionService {
  constructor(
    private readonly access: Access,
    private readonly loaders: PharmacyLoaders,
    /** UTC date of the request: EXPIRED and the renewal window count from it. */
    readonly today: string,
    /** Where a pharmacist's look-up is recorded. */
    private readonly lookups: { db: DataSource; store: PharmacyStore; audit: AuditTrail },
  ) {}

  /**
   * A pharmacist looks up a patient who has no pending request (at the
   * counter, on the phone): the reason is required and stored with who, whom
   * and the request id, in one transaction with the audit row of the read;
   * the answer (this request only) shows that patient's prescriptions.
   */
  async pharmacistLookup(patientId: string, reason: string): Promise<{ id: string }> {
    const viewer = this.access.requireViewer();
    const id = typeof patientId === 'string' ? patientId.trim() : '';
    if (!id || id.length > 64) throw badInput('Give the id of the patient to look up.', 'patientId');
    const why = typeof reason === 'string' ? reason.trim() : '';
    if (why.length < 5 || why.length > 500) throw badInput('Say why you look this patient up (5 to 500 characters).', 'reason');
    await policy.viewer('Query.pharmacistLookup', this.access);
    this.access.allowPharmacistLookup(id);
    await policy.assert('Query.pharmacistLookup', this.access, id);
    const { db, store, audit } = this.lookups;
    const row = { id: randomUUID(), requestId: audit.requestId, pharmacistId: viewer.personId, patientId: id, reason: why, lookedUpAt: new Date().toISOString() };
    await runChange(db, () => audit.transaction(db, (tx) => store.within(tx).insertLookup(row)));
    return { id };
  }

  async ofPatient(patientId: string, filter: PrescriptionFilter): Promise<PrescriptionRow[]> {
    await policy.assert('Patient.prescriptions', this.access, patientId);
    return this.loaders.prescriptionsOfPatient.load(patientKey(patientId, filter));
  }

  /** By id; another patient's prescription looks exactly like a missing one. */
  async byId(id: string): Promise<PrescriptionRow> {
    await policy.viewer('Prescription.__resolveReference', this.access);
    const row = await this.loaders.prescription.load(id);
    if (!row) throw notFound('Prescription');
    await policy.assert('Prescription.__resolveReference', this.access, row.patientId);
    return row;
  }

  async renewedFrom(rx: PrescriptionRef): Promise<PrescriptionRow | null> {
    if (!rx.renewedFromId) return null;
    const row = await this.loaders.prescription.load(rx.renewedFromId);
    if (!row) return null;
    await policy.assert('Prescription.renewedFrom', this.access, row.patientId);
    return row;
  }

  status(rx: PrescriptionRef): PrescriptionStatus {
    return effectiveStatus(rx, this.today);
  }

  async refillable(rx: PrescriptionRef): Promise<boolean> {
    return refillVerdict(await this.facts(rx), this.today).allowed;
  }

  async renewable(rx: PrescriptionRef): Promise<boolean> {
    return renewalVerdict(await this.facts(rx), this.today).allowed;
  }

  /** The newest request awaiting staff (at most one per kind). */
  async pendingRequest(rx: PrescriptionRef): Promise<PharmacyRequestRow | null> {
    const pending = await this.loaders.pendingRequests.load(rx.id);
    if (pending.length === 0) return null;
    await policy.assert('Prescription.pendingRequest', this.access, rx.patientId);
    return pending[0];
  }

  async medicationOf(rx: PrescriptionRef): Promise<MedicationRow> {
    const medication = await this.loaders.medication.load(rx.medicationCode);
    // The foreign key makes this unreachable; a bare Error is masked as INTERNAL_SERVER_ERROR.
    if (!medication) throw new Error('prescription without a medication row');
    return medication;
  }

  /** Medications are reference data, not health data, but still only for signed-in callers. */
  async medication(rxnormCode: string): Promise<MedicationRow | null> {
    this.access.requireViewer();
    return this.loaders.medication.load(rxnormCode);
  }

  /** By id; another patient's request looks exactly like a missing one. */
  async request(id: string): Promise<PharmacyRequestRow> {
    await policy.viewer('PharmacyRequest.__resolveReference', this.access);
    const row = await this.loaders.request.load(id);
    if (!row) throw notFound('Pharmacy request');
    await policy.assert('PharmacyRequest.__resolveReference', this.access, row.patientId);
    return row;
  }

  async prescriptionOfRequest(request: { prescriptionId: string; patientId: string }): Promise<PrescriptionRow> {
    await policy.assert('PharmacyRequest.prescription', this.access, request.patientId);
    const row = await this.loaders.prescription.load(request.prescriptionId);
    if (!row) throw notFound('Prescription');
    return row;
  }

  /** The prescription an approved renewal created, if any. */
  async newPrescriptionOf(request: { newPrescriptionId: string | null; patientId: string }): Promise<PrescriptionRow | null> {
    if (!request.newPrescriptionId) return null;
    await policy.assert('PharmacyRequest.newPrescription', this.access, request.patientId);
    return this.loaders.prescription.load(request.newPrescriptionId);
  }

  async fills(rx: PrescriptionRef) {
    return this.loaders.fills.load(rx.id);
  }

  private async facts(rx: PrescriptionRef): Promise<PrescriptionFacts> {
    const [pending, renewals] = await Promise.all([this.loaders.pendingRequests.load(rx.id), this.loaders.renewals.load(rx.id)]);
    return {
      discontinued: rx.discontinued,
      refillsRemaining: rx.refillsRemaining,
      expiresOn: rx.expiresOn,
      pendingKinds: pending.map((r) => r.kind),
      renewed: renewals.length > 0,
    };
  }
}
