import type { FillRow, MedicationRow, PharmacyRequestRow, PrescriptionRow } from '../db/entities';

/** Storage rows never reach GraphQL as they are: these shape what the schema promises. */
export const toMedication = (m: MedicationRow) => ({
  rxnormCode: m.rxnormCode,
  name: m.name,
  strength: m.strength,
  form: m.form,
});

/** `status`, `refillable` and the like are resolved from these facts by the service. */
export const toPrescription = (p: PrescriptionRow) => ({
  id: p.id,
  patientId: p.patientId,
  medicationCode: p.medicationCode,
  discontinued: p.status === 'DISCONTINUED',
  directions: p.directions,
  quantity: p.quantity,
  daysSupply: p.daysSupply,
  refillsAuthorized: p.refillsAuthorized,
  refillsRemaining: p.refillsRemaining,
  writtenOn: p.writtenOn,
  expiresOn: p.expiresOn,
  prescriberId: p.prescriberId,
  renewedFromId: p.renewedFromId,
});

export const toFill = (f: FillRow) => ({ id: f.id, filledOn: f.filledOn, quantity: f.quantity });

export const toPharmacyRequest = (r: PharmacyRequestRow) => ({
  id: r.id,
  patientId: r.patientId,
  prescriptionId: r.prescriptionId,
  kind: r.kind,
  status: r.status,
  requestedAt: new Date(r.requestedAt),
  note: r.note,
  decidedAt: r.decidedAt === null ? null : new Date(r.decidedAt),
  decisionNote: r.decisionNote,
  newPrescriptionId: r.newPrescriptionId,
});

export type PrescriptionModel = ReturnType<typeof toPrescription>;
export type PharmacyRequestModel = ReturnType<typeof toPharmacyRequest>;

/** Identity's patient as this subgraph knows it: its key. */
export type PatientRef = { id: string };
