import type { Bundle, BundleEntry, FhirResource } from 'fhir/r4';
import { fhirId } from './ids';
import type { PatientRecord } from './record';
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

/** The entries of the bundle, in order, each made only when it is reached. */
function* bundleEntries(record: PatientRecord, baseUrl: string): Generator<BundleEntry<FhirResource>> {
  const patientId = record.patient.id;
  const base = baseUrl.replace(/\/$/, '');
  // Keys only, not resources: what the bundle holds so far, to refuse duplicates and share people and places.
  const keys = new Set<string>();
  const entry = (resource: FhirResource): BundleEntry<FhirResource> | null => {
    const key = `${resource.resourceType}/${resource.id}`;
    // Practitioners, clinics and care teams appear under many records: one entry each.
    if (keys.has(key)) {
      if (['Practitioner', 'Location', 'CareTeam'].includes(resource.resourceType)) return null;
      throw new Error(`two records map to ${resource.resourceType} ${resource.id}`);
    }
    keys.add(key);
    return { fullUrl: `${base}/${key}`, resource };
  };
  const inBundle = (type: string, rawId: string) =>
    type === 'Appointment' ? appointmentIds.has(rawId) : type === 'MedicationRequest' ? prescriptionIds.has(rawId) : false;
  const appointmentIds = new Set(record.appointments.map((a) => a.id));
  const prescriptionIds = new Set(record.prescriptions.map((p) => p.id));

  function* all(): Generator<FhirResource> {
    yield toPatient(record.patient);
    for (const a of record.appointments) yield toPractitioner(a.practitioner);
    for (const p of record.prescriptions) yield toPractitioner(p.prescriber);
    for (const n of record.visitNotes) yield toPractitioner(n.author);
    for (const a of record.appointments) yield toLocation(a.clinic);
    for (const t of record.threads) yield toCareTeam(t.careTeam);

    for (const a of record.appointments) yield toAppointment(a, patientId);
    for (const t of record.threads) yield* toCommunications(t, patientId);
    for (const p of record.prescriptions) yield toMedicationRequest(p, patientId, inBundle);
    for (const p of record.prescriptions) for (const f of p.fills ?? []) yield toMedicationDispense(f, p, patientId);
    yield* toDiagnosticReports(record.labResults, patientId);
    for (const r of record.labResults) yield toLabObservation(r, patientId);
    for (const v of record.vitals) yield toVitalObservation(v, patientId);
    for (const n of record.visitNotes) yield toDocumentReference(n, patientId, inBundle);
    for (const c of record.conditions) yield toCondition(c, patientId);
    for (const a of record.allergies) yield toAllergyIntolerance(a, patientId);
    for (const i of record.immunizations) yield toImmunization(i, patientId);
  }
  for (const resource of all()) {
    const e = entry(resource);
    if (e) yield e;
  }
}

function bundleHead(options: BundleOptions) {
  const timestamp = options.now.toISOString();
  return { resourceType: 'Bundle' as const, id: fhirId(options.id), meta: { lastUpdated: timestamp }, type: 'collection' as const, timestamp };
}

/**
 * The patient's whole record as a FHIR R4 `collection` Bundle: the patient
 * first, then the people, places and teams their records point at, then the
 * records. Every entry's fullUrl is `<base>/<type>/<id>`, so each relative
 * reference `Type/id` inside resolves to an entry of the same bundle.
 */
export function buildPatientBundle(record: PatientRecord, options: BundleOptions): Bundle<FhirResource> {
  return { ...bundleHead(options), entry: [...bundleEntries(record, options.baseUrl)] };
}

/**
 * The same Bundle as JSON text, piece by piece (an entry at a time), for the
 * download: the record is held once, its resources and its text never whole.
 * JSON.parse of the pieces joined equals buildPatientBundle's answer.
 */
export function* patientBundleJson(record: PatientRecord, options: BundleOptions): Generator<string> {
  const head = JSON.stringify(bundleHead(options));
  yield `${head.slice(0, -1)},"entry":[`;
  let first = true;
  for (const e of bundleEntries(record, options.baseUrl)) {
    yield first ? JSON.stringify(e) : `,${JSON.stringify(e)}`;
    first = false;
  }
  yield ']}';
}
