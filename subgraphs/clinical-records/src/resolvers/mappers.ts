import type { Connection } from '@portal/kit';
import type { AllergyRow, ConditionRow, HealthTopicRow, ImmunizationRow, LabResultRow, VisitNoteRow, VitalRow } from '../db/entities';
import type { HistoryPointRow } from '../db/store';
import { interpret } from '../services/interpretation';

/** Storage rows never reach GraphQL as they are: these shape what the schema promises. */
export const toLabResult = (r: LabResultRow) => ({
  id: r.id,
  testName: r.testName,
  loincCode: r.loincCode,
  value: r.value,
  unit: r.unit,
  referenceRange: r.refLow == null && r.refHigh == null && r.refText == null ? null : { low: r.refLow, high: r.refHigh, text: r.refText },
  interpretation: interpret(r),
  status: r.status,
  source: r.source,
  collectedAt: r.collectedAt,
  resultedAt: r.resultedAt,
  sensitivity: r.sensitivity,
  // Kept for LabResult.history (whose patient's hidden records stay hidden), not exposed as such.
  patientId: r.patientId,
});

export const toLabResultPoint = (p: HistoryPointRow) => ({ value: p.value, resultedAt: p.resultedAt });

export const toVisitNote = (n: VisitNoteRow) => ({
  id: n.id,
  title: n.title,
  noteType: n.noteType,
  status: n.status,
  source: n.source,
  authoredAt: n.authoredAt,
  text: n.text,
  sensitivity: n.sensitivity,
  // Stubs: identity and scheduling own practitioners and appointments.
  author: { id: n.authorId },
  appointment: n.appointmentId ? { id: n.appointmentId } : null,
});

export const toCondition = (c: ConditionRow) => ({
  id: c.id,
  name: c.name,
  code: c.icd10Code,
  clinicalStatus: c.clinicalStatus,
  onsetDate: c.onsetDate,
});

export const toAllergy = (a: AllergyRow) => ({ id: a.id, substance: a.substance, snomedCode: a.snomedCode, reaction: a.reaction, severity: a.severity });

export const toImmunization = (i: ImmunizationRow) => ({ id: i.id, vaccine: i.vaccine, cvxCode: i.cvxCode, occurrenceDate: i.occurrenceDate });

export const toVital = (v: VitalRow) => ({ id: v.id, kind: v.kind, value: v.value, unit: v.unit, recordedAt: v.recordedAt });

export const toHealthTopic = (t: HealthTopicRow) => ({
  id: t.id,
  title: t.title,
  summary: t.summary,
  body: t.body,
  reviewedBy: t.reviewedBy,
  reviewedAt: t.reviewedAt,
});

export type LabResultModel = ReturnType<typeof toLabResult>;
export type ConditionModel = ReturnType<typeof toCondition>;

export type VisitNoteModel = ReturnType<typeof toVisitNote>;
/** Pages of one patient's records; `totalCount` is counted only when asked for. */
export type LabResultConnectionModel = Connection<LabResultModel>;
export type VisitNoteConnectionModel = Connection<VisitNoteModel>;
export type VitalConnectionModel = Connection<ReturnType<typeof toVital>>;

/** Other subgraphs' entities as this subgraph knows them: their key. */
export type PatientRef = { id: string };
export type AppointmentRef = { id: string };
export type MedicationRef = { rxnormCode: string };
