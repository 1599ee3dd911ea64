import type { Bundle, BundleEntry, FhirResource } from 'fhir/r4';
import { fhirId } from './ids';
import type { PatientRecord, PractitionerData } from './record';
import {
  toAllergyIntolerance,
  toAppointment,
  toCareTeam,
  toCommunications,
  toCondition,
  toDiagnosticReports,
  toDocumentReference,
  toImmunization,
  toLabObservation,
  toLocation,
  toMedicationDispense,
  toMedicationRequest,
  toPatient,
  toPractitioner,
  toVitalObservation,
} from './resources';

export interface BundleOptions {
  /** The FHIR base every fullUrl starts with, e.g. `https://portal.example/fhir`. */
  baseUrl: string;
  /** The bundle's own id (a fresh UUID per download). */
  id: string;
  now: Date;
}

/**
 * The patient's whole record as a FHIR R4 `collection` Bundle: the patient
 * first, then the people, places and teams their records point at, then the
 * records. Every entry's fullUrl is `<base>/<type>/<id>`, so each relative
 * reference `Type/id` inside resolves to an entry of the same bundle.
 */
export function buildPatientBundle(record: PatientRecord, options: BundleOptions): Bundle<FhirResource> {
  const patientId = record.patient.id;
  const entries = new Map<string, FhirResource>();
  const add = (resource: FhirResource) => {
    const key = `${resource.resourceType}/${resource.id}`;
    // Practitioners, clinics and care teams appear under many records: one entry each.
    if (entries.has(key)) {
      if (['Practitioner', 'Location', 'CareTeam'].includes(resource.resourceType)) return;
      throw new Error(`two records map to ${resource.resourceType} ${resource.id}`);
    }
    entries.set(key, resource);
  };
  const inBundle = (type: string, rawId: string) =>
    type === 'Appointment' ? appointmentIds.has(rawId) : type === 'MedicationRequest' ? prescriptionIds.has(rawId) : false;
  const appointmentIds = new Set(record.appointments.map((a) => a.id));
  const prescriptionIds = new Set(record.prescriptions.map((p) => p.id));

  add(toPatient(record.patient));
  const practitioners: PractitionerData[] = [
    ...record.appointments.map((a) => a.practitioner),
    ...record.prescriptions.map((p) => p.prescriber),
    ...record.visitNotes.map((n) => n.author),
  ];
  for (const p of practitioners) add(toPractitioner(p));
  for (const a of record.appointments) add(toLocation(a.clinic));
  for (const t of record.threads) add(toCareTeam(t.careTeam));

  for (const a of record.appointments) add(toAppointment(a, patientId));
  for (const t of record.threads) for (const c of toCommunications(t, patientId)) add(c);
  for (const p of record.prescriptions) add(toMedicationRequest(p, patientId, inBundle));
  for (const p of record.prescriptions) for (const f of p.fills ?? []) add(toMedicationDispense(f, p, patientId));
  for (const r of toDiagnosticReports(record.labResults, patientId)) add(r);
  for (const r of record.labResults) add(toLabObservation(r, patientId));
  for (const v of record.vitals) add(toVitalObservation(v, patientId));
  for (const n of record.visitNotes) add(toDocumentReference(n, patientId, inBundle));
  for (const c of record.conditions) add(toCondition(c, patientId));
  for (const a of record.allergies) add(toAllergyIntolerance(a, patientId));
  for (const i of record.immunizations) add(toImmunization(i, patientId));

  const base = options.baseUrl.replace(/\/$/, '');
  const entry: BundleEntry<FhirResource>[] = [...entries.entries()].map(([key, resource]) => ({ fullUrl: `${base}/${key}`, resource }));
  const timestamp = options.now.toISOString();
  return {
    resourceType: 'Bundle',
    id: fhirId(options.id),
    meta: { lastUpdated: timestamp },
    type: 'collection',
    timestamp,
    entry,
  };
}
