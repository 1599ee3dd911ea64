/**
 * The portal's records as FHIR R4 resources: one pure function per kind of
 * record. References are relative (`Patient/<id>`); the bundle gives every
 * resource a fullUrl they resolve to.
 */
import type {
  AllergyIntolerance,
  Appointment,
  CareTeam,
  Communication,
  Condition,
  DiagnosticReport,
  DocumentReference,
  Extension,
  Immunization,
  Location,
  MedicationDispense,
  MedicationRequest,
  Meta,
  Observation,
  ObservationReferenceRange,
  Patient,
  Practitioner,
} from 'fhir/r4';
import { fhirId, ref } from './ids';
import type {
  AllergyData,
  AppointmentData,
  ConditionData,
  FillData,
  ImmunizationData,
  LabResultData,
  PatientData,
  PractitionerData,
  PrescriptionData,
  ThreadData,
  VisitNoteData,
  VitalData,
} from './record';
import {
  coding,
  concept,
  DIASTOLIC,
  GENERIC_NOTE,
  INTERPRETATIONS,
  LAB_REPORT,
  NOTE_TYPES,
  parseNumber,
  quantity,
  RECORD_SOURCE_DISPLAY,
  SYSTEM,
  SYSTOLIC,
  VITAL_CODES,
  VITAL_SIGNS_PANEL,
} from './systems';

/** The part of the portal a resource came from. */
export type Subgraph = 'identity' | 'scheduling' | 'messaging' | 'pharmacy' | 'clinical-records';

/**
 * `meta.source` names the part of the portal that holds the record; a record
 * with a known origin (MHS GENESIS or the legacy TRICARE Online portal) is
 * also tagged with it.
 */
export function metaOf(subgraph: Subgraph, recordSource?: string | null): Meta {
  const meta: Meta = { source: `urn:patient-portal:${subgraph}` };
  if (recordSource) meta.tag = [coding(SYSTEM.recordSource, recordSource, RECORD_SOURCE_DISPLAY[recordSource])];
  return meta;
}

const humanName = (n: { given: string; family: string }) => ({ family: n.family, given: [n.given] });
const lower = (s: string) => s.toLowerCase();
const fullName = (n: { given: string; family: string }) => `${n.given} ${n.family}`;

export function toPatient(p: PatientData): Patient {
  const affiliations: Extension[] = p.affiliations.map((a) => ({
    url: SYSTEM.affiliationExtension,
    extension: [
      { url: 'organization', valueCode: a.organization },
      { url: 'status', valueCode: a.status },
      { url: 'period', valuePeriod: { start: a.startDate, ...(a.endDate ? { end: a.endDate } : {}) } },
    ],
  }));
  return {
    resourceType: 'Patient',
    id: fhirId(p.id),
    meta: metaOf('identity'),
    ...(affiliations.length ? { extension: affiliations } : {}),
    identifier: [
      {
        use: 'official',
        type: concept(coding(SYSTEM.identifierType, 'MI', 'Military ID number'), 'DoD ID (EDIPI)'),
        system: SYSTEM.dodId,
        value: p.dodId,
      },
    ],
    active: true,
    name: [{ use: 'official', ...humanName(p.name) }],
    birthDate: p.dateOfBirth,
  };
}

export function toPractitioner(p: PractitionerData): Practitioner {
  return { resourceType: 'Practitioner', id: fhirId(p.id), meta: metaOf('identity'), name: [humanName(p.name)] };
}

export function toLocation(clinic: AppointmentData['clinic']): Location {
  return {
    resourceType: 'Location',
    id: fhirId(clinic.id),
    meta: metaOf('scheduling'),
    name: clinic.name,
    ...(clinic.phone ? { telecom: [{ system: 'phone', value: clinic.phone }] } : {}),
  };
}

export function toCareTeam(team: ThreadData['careTeam']): CareTeam {
  return { resourceType: 'CareTeam', id: fhirId(team.id), meta: metaOf('identity'), name: team.name };
}

const APPOINTMENT_STATUS: Record<string, Appointment['status']> = {
  BOOKED: 'booked',
  CANCELLED: 'cancelled',
  CHECKED_IN: 'checked-in',
  FULFILLED: 'fulfilled',
  NO_SHOW: 'noshow',
};

export function toAppointment(a: AppointmentData, patientId: string): Appointment {
  const typeText = a.appointmentType.replace(/_/g, ' ').toLowerCase();
  return {
    resourceType: 'Appointment',
    id: fhirId(a.id),
    meta: metaOf('scheduling'),
    status: APPOINTMENT_STATUS[a.status] ?? 'booked',
    ...(a.cancellation ? { cancelationReason: { text: a.cancellation.reason ?? 'Cancelled' } } : {}),
    serviceType: [concept(coding(SYSTEM.appointmentType, a.appointmentType, typeText), typeText)],
    appointmentType: concept(
      a.appointmentType === 'FOLLOW_UP'
        ? coding(SYSTEM.appointmentReason, 'FOLLOWUP', 'A follow up visit from a previous appointment')
        : coding(SYSTEM.appointmentReason, 'ROUTINE', 'Routine appointment - default if not valued'),
    ),
    ...(a.reason ? { reasonCode: [{ text: a.reason }] } : {}),
    start: a.start,
    end: a.end,
    participant: [
      { actor: ref('Patient', patientId), required: 'required', status: 'accepted' },
      { actor: ref('Practitioner', a.practitioner.id, fullName(a.practitioner.name)), required: 'required', status: 'accepted' },
      { actor: ref('Location', a.clinic.id, a.clinic.name), required: 'required', status: 'accepted' },
    ],
  };
}

/** How a message a proxy wrote in the patient's name shows its sender (the proxy is no resource of the patient's record). */
export const PROXY_SENDER = 'Written for the patient by their proxy';

/**
 * One Communication per message of a thread, oldest first, each answering the
 * one before it. Care-team senders are named, not referenced: the portal keeps
 * their name on the message, not who they are. A message a proxy wrote in the
 * patient's name says so instead of naming the patient as its sender.
 */
export function toCommunications(t: ThreadData, patientId: string): Communication[] {
  return t.messages.map((m, i) => {
    const fromPatient = m.senderRole === 'PATIENT';
    return {
      resourceType: 'Communication',
      id: fhirId(m.id),
      meta: metaOf('messaging', t.source),
      ...(i > 0 ? { inResponseTo: [ref('Communication', t.messages[i - 1].id)] } : {}),
      status: 'completed',
      category: [concept(coding(SYSTEM.messageCategory, t.category, t.category.replace(/_/g, ' ').toLowerCase()))],
      subject: ref('Patient', patientId),
      topic: { text: t.subject },
      sent: m.sentAt,
      recipient: [fromPatient ? ref('CareTeam', t.careTeam.id, t.careTeam.name) : ref('Patient', patientId)],
      sender: m.writtenByProxy ? { display: PROXY_SENDER } : fromPatient ? ref('Patient', patientId) : { display: m.senderName },
      payload: [{ contentString: m.body }],
    };
  });
}

const PRESCRIPTION_STATUS: Record<string, MedicationRequest['status']> = {
  ACTIVE: 'active',
  // An expired prescription ran its course; a discontinued one was stopped early.
  EXPIRED: 'completed',
  DISCONTINUED: 'stopped',
};

export function toMedicationRequest(rx: PrescriptionData, patientId: string, inBundle: (type: string, id: string) => boolean): MedicationRequest {
  const med = rx.medication;
  return {
    resourceType: 'MedicationRequest',
    id: fhirId(rx.id),
    meta: metaOf('pharmacy'),
    status: PRESCRIPTION_STATUS[rx.status] ?? 'unknown',
    intent: 'order',
    medicationCodeableConcept: concept(coding(SYSTEM.rxnorm, med.rxnormCode, med.name), `${med.name} ${med.strength} ${med.form}`),
    subject: ref('Patient', patientId),
    authoredOn: rx.writtenOn,
    requester: ref('Practitioner', rx.prescriber.id, fullName(rx.prescriber.name)),
    dosageInstruction: [{ text: rx.directions }],
    dispenseRequest: {
      validityPeriod: { start: rx.writtenOn, end: rx.expiresOn },
      numberOfRepeatsAllowed: rx.refillsAuthorized,
      quantity: { value: rx.quantity },
      expectedSupplyDuration: { value: rx.daysSupply, unit: 'days', system: SYSTEM.ucum, code: 'd' },
    },
    ...(rx.renewedFrom && inBundle('MedicationRequest', rx.renewedFrom.id) ? { priorPrescription: ref('MedicationRequest', rx.renewedFrom.id) } : {}),
  };
}

/**
 * One fill of a prescription: handed over on the day it was dispensed (the
 * portal records the day, not the hour), the quantity dispensed, the days
 * one fill lasts (the prescription's), and the prescription it fills.
 */
export function toMedicationDispense(fill: FillData, rx: PrescriptionData, patientId: string): MedicationDispense {
  const med = rx.medication;
  return {
    resourceType: 'MedicationDispense',
    id: fhirId(fill.id),
    meta: metaOf('pharmacy'),
    status: 'completed',
    medicationCodeableConcept: concept(coding(SYSTEM.rxnorm, med.rxnormCode, med.name), `${med.name} ${med.strength} ${med.form}`),
    subject: ref('Patient', patientId),
    authorizingPrescription: [ref('MedicationRequest', rx.id)],
    quantity: { value: fill.quantity },
    daysSupply: { value: rx.daysSupply, unit: 'days', system: SYSTEM.ucum, code: 'd' },
    whenPrepared: fill.filledOn,
    whenHandedOver: fill.filledOn,
  };
}

const RESULT_STATUS: Record<string, Observation['status']> = { FINAL: 'final', AMENDED: 'amended', CORRECTED: 'corrected' };

const interpretationOf = (i: string | null) => (i && INTERPRETATIONS[i] ? [concept(coding(SYSTEM.interpretation, INTERPRETATIONS[i].code, INTERPRETATIONS[i].display))] : undefined);

function referenceRangeOf(r: LabResultData): ObservationReferenceRange[] | undefined {
  const range = r.referenceRange;
  if (!range || (range.low == null && range.high == null && !range.text)) return undefined;
  return [
    {
      ...(range.low != null ? { low: quantity(range.low, r.unit) } : {}),
      ...(range.high != null ? { high: quantity(range.high, r.unit) } : {}),
      ...(range.text ? { text: range.text } : {}),
    },
  ];
}

export function toLabObservation(r: LabResultData, patientId: string): Observation {
  const n = parseNumber(r.value);
  const interpretation = interpretationOf(r.interpretation);
  const referenceRange = referenceRangeOf(r);
  return {
    resourceType: 'Observation',
    id: fhirId(r.id),
    meta: metaOf('clinical-records', r.source),
    status: RESULT_STATUS[r.status] ?? 'final',
    category: [concept(coding(SYSTEM.observationCategory, 'laboratory', 'Laboratory'))],
    code: concept(coding(SYSTEM.loinc, r.loincCode, r.testName), r.testName),
    subject: ref('Patient', patientId),
    effectiveDateTime: r.collectedAt,
    issued: r.resultedAt,
    ...(n ? { valueQuantity: quantity(n.value, r.unit, n.comparator) } : { valueString: r.value }),
    ...(interpretation ? { interpretation } : {}),
    ...(referenceRange ? { referenceRange } : {}),
  };
}

/**
 * Results collected together (same time, same source) as one report, the way
 * a lab reports a panel; a report of one result carries that test's code.
 */
export function toDiagnosticReports(results: LabResultData[], patientId: string): DiagnosticReport[] {
  const groups = new Map<string, LabResultData[]>();
  for (const r of results) {
    const key = `${r.collectedAt}|${r.source}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((group) => {
    const sorted = [...group].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const statuses = new Set(group.map((r) => r.status));
    const status: DiagnosticReport['status'] = statuses.has('CORRECTED') ? 'corrected' : statuses.has('AMENDED') ? 'amended' : 'final';
    const single = group.length === 1 ? group[0] : null;
    return {
      resourceType: 'DiagnosticReport',
      // Named after its first result, so the same results make the same report id in every download.
      id: fhirId(`dr-${sorted[0].id}`),
      meta: metaOf('clinical-records', group[0].source),
      status,
      category: [concept(coding(SYSTEM.diagnosticServiceSection, 'LAB', 'Laboratory'))],
      code: single
        ? concept(coding(SYSTEM.loinc, single.loincCode, single.testName), single.testName)
        : concept(coding(SYSTEM.loinc, LAB_REPORT.code, LAB_REPORT.display), group.map((r) => r.testName).join(', ')),
      subject: ref('Patient', patientId),
      effectiveDateTime: group[0].collectedAt,
      issued: group.map((r) => r.resultedAt).sort().at(-1),
      result: group.map((r) => ref('Observation', r.id, r.testName)),
    };
  });
}

export function toVitalObservation(v: VitalData, patientId: string): Observation {
  const known = VITAL_CODES[v.kind];
  const kindText = v.kind.replace(/_/g, ' ').toLowerCase();
  const base: Observation = {
    resourceType: 'Observation',
    id: fhirId(v.id),
    meta: metaOf('clinical-records'),
    status: 'final',
    category: [concept(coding(SYSTEM.observationCategory, 'vital-signs', 'Vital Signs'))],
    code: known ? concept(coding(SYSTEM.loinc, known.code, known.display), kindText) : concept(coding(SYSTEM.loinc, VITAL_SIGNS_PANEL.code, VITAL_SIGNS_PANEL.display), kindText),
    subject: ref('Patient', patientId),
    effectiveDateTime: v.recordedAt,
  };
  if (v.kind === 'BLOOD_PRESSURE') {
    const [systolic, diastolic] = v.value.split('/').map((x) => parseNumber(x));
    if (systolic && diastolic) {
      return {
        ...base,
        component: [
          { code: concept(coding(SYSTEM.loinc, SYSTOLIC.code, SYSTOLIC.display)), valueQuantity: quantity(systolic.value, v.unit) },
          { code: concept(coding(SYSTEM.loinc, DIASTOLIC.code, DIASTOLIC.display)), valueQuantity: quantity(diastolic.value, v.unit) },
        ],
      };
    }
  }
  const n = parseNumber(v.value);
  return { ...base, ...(n ? { valueQuantity: quantity(n.value, v.unit, n.comparator) } : { valueString: `${v.value} ${v.unit}`.trim() }) };
}

export function toDocumentReference(n: VisitNoteData, patientId: string, inBundle: (type: string, id: string) => boolean): DocumentReference {
  const type = NOTE_TYPES[n.noteType] ?? GENERIC_NOTE;
  return {
    resourceType: 'DocumentReference',
    id: fhirId(n.id),
    meta: metaOf('clinical-records', n.source),
    status: 'current',
    docStatus: n.status === 'AMENDED' ? 'amended' : 'final',
    type: concept(coding(SYSTEM.loinc, type.code, type.display), n.noteType.replace(/_/g, ' ').toLowerCase()),
    category: [concept(coding(SYSTEM.documentCategory, 'clinical-note', 'Clinical Note'))],
    subject: ref('Patient', patientId),
    date: n.authoredAt,
    author: [ref('Practitioner', n.author.id, fullName(n.author.name))],
    description: n.title,
    content: [
      {
        attachment: {
          contentType: 'text/plain',
          // The note exactly as written: base64 of its UTF-8 bytes.
          data: Buffer.from(n.text, 'utf8').toString('base64'),
          title: n.title,
          creation: n.authoredAt,
        },
      },
    ],
    ...(n.appointment && inBundle('Appointment', n.appointment.id) ? { context: { related: [ref('Appointment', n.appointment.id)] } } : {}),
  };
}

const CONDITION_CLINICAL = new Set(['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved']);

export function toCondition(c: ConditionData, patientId: string): Condition {
  const clinical = lower(c.clinicalStatus);
  return {
    resourceType: 'Condition',
    id: fhirId(c.id),
    meta: metaOf('clinical-records'),
    ...(CONDITION_CLINICAL.has(clinical) ? { clinicalStatus: concept(coding(SYSTEM.conditionClinical, clinical)) } : {}),
    category: [concept(coding(SYSTEM.conditionCategory, 'problem-list-item', 'Problem List Item'))],
    code: concept(coding(SYSTEM.icd10cm, c.code, c.name), c.name),
    subject: ref('Patient', patientId),
    ...(c.onsetDate ? { onsetDateTime: c.onsetDate } : {}),
  };
}

const SEVERITY = new Set(['mild', 'moderate', 'severe']);

export function toAllergyIntolerance(a: AllergyData, patientId: string): AllergyIntolerance {
  const severity = a.severity ? lower(a.severity) : null;
  return {
    resourceType: 'AllergyIntolerance',
    id: fhirId(a.id),
    meta: metaOf('clinical-records'),
    clinicalStatus: concept(coding(SYSTEM.allergyClinical, 'active', 'Active')),
    verificationStatus: concept(coding(SYSTEM.allergyVerification, 'confirmed', 'Confirmed')),
    code: a.snomedCode ? concept(coding(SYSTEM.snomed, a.snomedCode, a.substance), a.substance) : { text: a.substance },
    patient: ref('Patient', patientId),
    ...(a.reaction
      ? { reaction: [{ manifestation: [{ text: a.reaction }], ...(severity && SEVERITY.has(severity) ? { severity: severity as 'mild' | 'moderate' | 'severe' } : {}) }] }
      : {}),
  };
}

export function toImmunization(i: ImmunizationData, patientId: string): Immunization {
  return {
    resourceType: 'Immunization',
    id: fhirId(i.id),
    meta: metaOf('clinical-records'),
    status: 'completed',
    vaccineCode: i.cvxCode ? concept(coding(SYSTEM.cvx, i.cvxCode, i.vaccine), i.vaccine) : { text: i.vaccine },
    patient: ref('Patient', patientId),
    occurrenceDateTime: i.occurrenceDate,
  };
}
