import { notFound, type Access } from '@portal/kit';
import type { MedicationRow, PharmacyRequestRow, PrescriptionRow } from '../db/entities';
import type { PrescriptionFilter } from '../db/store';
import { patientKey, type PharmacyLoaders } from '../loaders';
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
 * Reads of prescriptions and pharmacy requests, each checked against the
 * viewer's access to the patient (the kit's policy lets pharmacists read
 * prescriptions and requests of any patient, practitioners those they treat).
 */
export class PrescriptionService {
  constructor(
    private readonly access: Access,
    private readonly loaders: PharmacyLoaders,
    /** UTC date of the request: EXPIRED and the renewal window count from it. */
    readonly today: string,
  ) {}

  async ofPatient(patientId: string, filter: PrescriptionFilter): Promise<PrescriptionRow[]> {
    await this.access.assert(patientId, 'prescription');
    return this.loaders.prescriptionsOfPatient.load(patientKey(patientId, filter));
  }

  /** By id; another patient's prescription looks exactly like a missing one. */
  async byId(id: string): Promise<PrescriptionRow> {
    this.access.requireViewer();
    const row = await this.loaders.prescription.load(id);
    if (!row) throw notFound('Prescription');
    await this.access.assertOrNotFound(row.patientId, 'prescription', 'Prescription');
    return row;
  }

  async renewedFrom(rx: PrescriptionRef): Promise<PrescriptionRow | null> {
    if (!rx.renewedFromId) return null;
    const row = await this.loaders.prescription.load(rx.renewedFromId);
    if (!row) return null;
    await this.access.assertOrNotFound(row.patientId, 'prescription', 'Prescription');
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
    await this.access.assert(rx.patientId, 'pharmacy_request');
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
    this.access.requireViewer();
    const row = await this.loaders.request.load(id);
    if (!row) throw notFound('Pharmacy request');
    await this.access.assertOrNotFound(row.patientId, 'pharmacy_request', 'Pharmacy request');
    return row;
  }

  async prescriptionOfRequest(request: { prescriptionId: string; patientId: string }): Promise<PrescriptionRow> {
    await this.access.assert(request.patientId, 'prescription');
    const row = await this.loaders.prescription.load(request.prescriptionId);
    if (!row) throw notFound('Prescription');
    return row;
  }

  /** The prescription an approved renewal created, if any. */
  async newPrescriptionOf(request: { newPrescriptionId: string | null; patientId: string }): Promise<PrescriptionRow | null> {
    if (!request.newPrescriptionId) return null;
    await this.access.assert(request.patientId, 'prescription');
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
