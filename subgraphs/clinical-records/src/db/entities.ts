import { EntitySchema } from 'typeorm';

/** Where a record came from: the current EHR, or the legacy TRICARE Online portal. */
export type RecordSource = 'MHS_GENESIS' | 'TRICARE_ONLINE';
/** PRELIMINARY results are stored as received but never shown to anyone. */
export type StoredResultStatus = 'PRELIMINARY' | 'FINAL' | 'AMENDED' | 'CORRECTED';
/** DRAFT and PRELIMINARY notes are stored but never shown. */
export type StoredNoteStatus = 'DRAFT' | 'PRELIMINARY' | 'FINAL' | 'AMENDED';
export type CodeSystem = 'LOINC' | 'ICD10' | 'RXNORM';
/** NORMAL, or a kind of record a proxy whose grant hides sensitive records never sees. */
export type Sensitivity = 'NORMAL' | 'BEHAVIORAL_HEALTH' | 'REPRODUCTIVE_HEALTH' | 'SUBSTANCE_USE';

export interface LabResultRow {
  id: string;
  patientId: string;
  testName: string;
  loincCode: string;
  value: string;
  unit: string | null;
  refLow: number | null;
  refHigh: number | null;
  refText: string | null;
  /** As the source reported it; null when it gave none. */
  interpretation: string | null;
  status: StoredResultStatus;
  source: RecordSource;
  collectedAt: string;
  resultedAt: string;
  /** Not NORMAL: hidden from a proxy whose grant hides sensitive records. */
  sensitivity: Sensitivity;
}

export interface VisitNoteRow {
  id: string;
  patientId: string;
  appointmentId: string | null;
  authorId: string;
  title: string;
  noteType: string;
  status: StoredNoteStatus;
  source: RecordSource;
  authoredAt: string;
  text: string;
  /** Not NORMAL: hidden from a proxy whose grant hides sensitive records. */
  sensitivity: Sensitivity;
}

export interface ConditionRow {
  id: string;
  patientId: string;
  name: string;
  icd10Code: string;
  clinicalStatus: string;
  onsetDate: string | null;
}

export interface AllergyRow {
  id: string;
  patientId: string;
  substance: string;
  /** SNOMED CT code of the substance or product, when known. */
  snomedCode: string | null;
  reaction: string | null;
  severity: string | null;
  recordedAt: string;
}

export interface ImmunizationRow {
  id: string;
  patientId: string;
  vaccine: string;
  /** CDC CVX code of the vaccine, when known. */
  cvxCode: string | null;
  occurrenceDate: string;
}

export interface VitalRow {
  id: string;
  patientId: string;
  kind: string;
  value: string;
  unit: string;
  recordedAt: string;
}

export interface HealthTopicRow {
  id: string;
  title: string;
  summary: string;
  body: string;
  reviewedBy: string;
  reviewedAt: string;
}

export interface HealthTopicCodeRow {
  topicId: string;
  system: CodeSystem;
  code: string;
}

const varchar = (length: number, extra: object = {}) => ({ type: 'varchar' as const, length, ...extra });
const id = () => varchar(64, { primary: true });
const patientId = () => varchar(64, { name: 'patient_id' });
const float = (name: string) => ({ type: 'double precision' as const, name, nullable: true });

export const LabResultEntity = new EntitySchema<LabResultRow>({
  name: 'LabResult',
  tableName: 'lab_result',
  columns: {
    id: id(),
    patientId: patientId(),
    testName: varchar(200, { name: 'test_name' }),
    loincCode: varchar(16, { name: 'loinc_code' }),
    value: varchar(100),
    unit: varchar(32, { nullable: true }),
    refLow: float('ref_low'),
    refHigh: float('ref_high'),
    refText: varchar(100, { name: 'ref_text', nullable: true }),
    interpretation: varchar(16, { nullable: true }),
    status: varchar(16),
    source: varchar(16),
    collectedAt: varchar(32, { name: 'collected_at' }),
    resultedAt: varchar(32, { name: 'resulted_at' }),
    sensitivity: varchar(24, { default: 'NORMAL' }),
  },
});

export const VisitNoteEntity = new EntitySchema<VisitNoteRow>({
  name: 'VisitNote',
  tableName: 'visit_note',
  columns: {
    id: id(),
    patientId: patientId(),
    appointmentId: varchar(64, { name: 'appointment_id', nullable: true }),
    authorId: varchar(64, { name: 'author_id' }),
    title: varchar(200),
    noteType: varchar(64, { name: 'note_type' }),
    status: varchar(16),
    source: varchar(16),
    authoredAt: varchar(32, { name: 'authored_at' }),
    text: { type: 'text' },
    sensitivity: varchar(24, { default: 'NORMAL' }),
  },
});

export const ConditionEntity = new EntitySchema<ConditionRow>({
  name: 'Condition',
  tableName: 'condition',
  columns: {
    id: id(),
    patientId: patientId(),
    name: varchar(200),
    icd10Code: varchar(16, { name: 'icd10_code' }),
    clinicalStatus: varchar(32, { name: 'clinical_status' }),
    onsetDate: varchar(10, { name: 'onset_date', nullable: true }),
  },
});

export const AllergyEntity = new EntitySchema<AllergyRow>({
  name: 'Allergy',
  tableName: 'allergy',
  columns: {
    id: id(),
    patientId: patientId(),
    substance: varchar(200),
    snomedCode: varchar(32, { name: 'snomed_code', nullable: true }),
    reaction: varchar(200, { nullable: true }),
    severity: varchar(32, { nullable: true }),
    recordedAt: varchar(32, { name: 'recorded_at' }),
  },
});

export const ImmunizationEntity = new EntitySchema<ImmunizationRow>({
  name: 'Immunization',
  tableName: 'immunization',
  columns: {
    id: id(),
    patientId: patientId(),
    vaccine: varchar(200),
    cvxCode: varchar(8, { name: 'cvx_code', nullable: true }),
    occurrenceDate: varchar(10, { name: 'occurrence_date' }),
  },
});

export const VitalEntity = new EntitySchema<VitalRow>({
  name: 'Vital',
  tableName: 'vital',
  columns: {
    id: id(),
    patientId: patientId(),
    kind: varchar(32),
    value: varchar(32),
    unit: varchar(32),
    recordedAt: varchar(32, { name: 'recorded_at' }),
  },
});

export const HealthTopicEntity = new EntitySchema<HealthTopicRow>({
  name: 'HealthTopic',
  tableName: 'health_topic',
  columns: {
    id: id(),
    title: varchar(200),
    summary: varchar(500),
    body: { type: 'text' },
    reviewedBy: varchar(200, { name: 'reviewed_by' }),
    reviewedAt: varchar(10, { name: 'reviewed_at' }),
  },
});

export const HealthTopicCodeEntity = new EntitySchema<HealthTopicCodeRow>({
  name: 'HealthTopicCode',
  tableName: 'health_topic_code',
  columns: {
    topicId: varchar(64, { name: 'topic_id', primary: true }),
    system: varchar(8, { primary: true }),
    code: varchar(32, { primary: true }),
  },
});

export const entities = [
  LabResultEntity,
  VisitNoteEntity,
  ConditionEntity,
  AllergyEntity,
  ImmunizationEntity,
  VitalEntity,
  HealthTopicEntity,
  HealthTopicCodeEntity,
];
