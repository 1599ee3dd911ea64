import type { CodeableConcept, Coding, Quantity } from 'fhir/r4';

/** Code systems and identifier systems the download writes. */
export const SYSTEM = {
  loinc: 'http://loinc.org',
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
  snomed: 'http://snomed.info/sct',
  cvx: 'http://hl7.org/fhir/sid/cvx',
  ucum: 'http://unitsofmeasure.org',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  interpretation: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  conditionCategory: 'http://terminology.hl7.org/CodeSystem/condition-category',
  allergyClinical: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
  allergyVerification: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
  diagnosticServiceSection: 'http://terminology.hl7.org/CodeSystem/v2-0074',
  identifierType: 'http://terminology.hl7.org/CodeSystem/v2-0203',
  appointmentReason: 'http://terminology.hl7.org/CodeSystem/v2-0276',
  documentCategory: 'http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category',
  // The portal's own vocabularies: URNs, since nothing is published at them.
  recordSource: 'urn:patient-portal:fhir:record-source',
  appointmentType: 'urn:patient-portal:fhir:appointment-type',
  messageCategory: 'urn:patient-portal:fhir:message-category',
  dodId: 'urn:patient-portal:fhir:dod-id',
  affiliationExtension: 'urn:patient-portal:fhir:StructureDefinition:beneficiary-affiliation',
} as const;

export const coding = (system: string, code: string, display?: string): Coding => ({ system, code, ...(display ? { display } : {}) });
export const concept = (c: Coding, text?: string): CodeableConcept => ({ coding: [c], ...(text ? { text } : {}) });

export const RECORD_SOURCE_DISPLAY: Record<string, string> = {
  MHS_GENESIS: 'MHS GENESIS',
  TRICARE_ONLINE: 'TRICARE Online (legacy)',
};

/** LOINC codes of vital signs by the portal's kind; blood pressure is a panel of two components. */
export const VITAL_CODES: Record<string, { code: string; display: string }> = {
  BLOOD_PRESSURE: { code: '85354-9', display: 'Blood pressure panel with all children optional' },
  HEART_RATE: { code: '8867-4', display: 'Heart rate' },
  RESPIRATORY_RATE: { code: '9279-1', display: 'Respiratory rate' },
  TEMPERATURE: { code: '8310-5', display: 'Body temperature' },
  WEIGHT: { code: '29463-7', display: 'Body weight' },
  HEIGHT: { code: '8302-2', display: 'Body height' },
  BMI: { code: '39156-5', display: 'Body mass index (BMI) [Ratio]' },
  OXYGEN_SATURATION: { code: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry' },
};
/** Any other kind: the vital-signs panel code, with the kind as text. */
export const VITAL_SIGNS_PANEL = { code: '85353-1', display: 'Vital signs, weight, height, head circumference, oxygen saturation and BMI panel' };
export const SYSTOLIC = { code: '8480-6', display: 'Systolic blood pressure' };
export const DIASTOLIC = { code: '8462-4', display: 'Diastolic blood pressure' };

/** LOINC document types of visit notes by the portal's note type. */
export const NOTE_TYPES: Record<string, { code: string; display: string }> = {
  PROGRESS_NOTE: { code: '11506-3', display: 'Progress note' },
  TELEPHONE_NOTE: { code: '34748-4', display: 'Telephone encounter Note' },
  CONSULT_NOTE: { code: '11488-4', display: 'Consult note' },
  DISCHARGE_SUMMARY: { code: '18842-5', display: 'Discharge summary' },
  HISTORY_AND_PHYSICAL: { code: '34117-2', display: 'History and physical note' },
  PROCEDURE_NOTE: { code: '28570-0', display: 'Procedure note' },
};
/** Any other note type (e.g. a legacy ENCOUNTER_NOTE): LOINC's generic "Note". */
export const GENERIC_NOTE = { code: '34109-9', display: 'Note' };

/** LOINC "Laboratory report", for a report that groups several results. */
export const LAB_REPORT = { code: '11502-2', display: 'Laboratory report' };

export const INTERPRETATIONS: Record<string, { code: string; display: string }> = {
  NORMAL: { code: 'N', display: 'Normal' },
  LOW: { code: 'L', display: 'Low' },
  HIGH: { code: 'H', display: 'High' },
  CRITICAL_LOW: { code: 'LL', display: 'Critical low' },
  CRITICAL_HIGH: { code: 'HH', display: 'Critical high' },
  ABNORMAL: { code: 'A', display: 'Abnormal' },
};

/** Units as sources write them, mapped to UCUM; units already spelt in UCUM map to themselves. */
const UCUM: Record<string, string> = {
  mmHg: 'mm[Hg]',
  'mm[Hg]': 'mm[Hg]',
  '/min': '/min',
  'beats/min': '/min',
  bpm: '/min',
  kg: 'kg',
  g: 'g',
  lb: '[lb_av]',
  lbs: '[lb_av]',
  cm: 'cm',
  m: 'm',
  in: '[in_i]',
  C: 'Cel',
  '°C': 'Cel',
  Cel: 'Cel',
  F: '[degF]',
  '°F': '[degF]',
  '%': '%',
  'kg/m2': 'kg/m2',
  'mg/dL': 'mg/dL',
  'g/dL': 'g/dL',
  'mmol/L': 'mmol/L',
  'mEq/L': 'meq/L',
  'U/L': 'U/L',
  'ng/mL': 'ng/mL',
  'pg/mL': 'pg/mL',
  'ug/dL': 'ug/dL',
  fL: 'fL',
  pg: 'pg',
  '10*3/uL': '10*3/uL',
  '10*6/uL': '10*6/uL',
  'mL/min/1.73m2': 'mL/min/{1.73_m2}',
  'mIU/L': 'm[IU]/L',
  'uIU/mL': 'u[IU]/mL',
};

/**
 * A Quantity: coded in UCUM when the unit is one we know, otherwise with the
 * unit as text only (a Quantity may not carry a code without its system).
 */
export function quantity(value: number, unit: string | null | undefined, comparator?: Quantity['comparator']): Quantity {
  const q: Quantity = { value, ...(comparator ? { comparator } : {}) };
  if (!unit) return q;
  const code = UCUM[unit.trim()];
  return code ? { ...q, unit, system: SYSTEM.ucum, code } : { ...q, unit };
}

const NUMBER = /^\s*(<=|>=|<|>)?\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*$/;

/** A reported value as a number (with its comparator, e.g. "<0.5"), or null when it is a word. */
export function parseNumber(value: string): { value: number; comparator?: Quantity['comparator'] } | null {
  const m = NUMBER.exec(value);
  if (!m) return null;
  return { value: Number(m[2]), ...(m[1] ? { comparator: m[1] as Quantity['comparator'] } : {}) };
}
