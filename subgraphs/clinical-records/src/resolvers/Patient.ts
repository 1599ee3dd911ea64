import type { PageArgs } from '@portal/kit';
import type { ClinicalContext } from '../context';
import { toAllergy, toCondition, toImmunization, toLabResult, toPatientConnection, toVisitNote, toVital } from './mappers';

type PatientRef = { id: string };

export const Patient = {
  // Identity owns the patient; every field below checks access itself.
  __resolveReference: (ref: PatientRef) => ({ id: ref.id }),

  async labResults(patient: PatientRef, args: PageArgs, ctx: ClinicalContext) {
    const { page, rows } = await ctx.records.labResults(patient.id, args);
    return toPatientConnection(patient.id, page, rows, (r) => r.resultedAt, toLabResult);
  },
  async visitNotes(patient: PatientRef, args: PageArgs, ctx: ClinicalContext) {
    const { page, rows } = await ctx.records.visitNotes(patient.id, args);
    return toPatientConnection(patient.id, page, rows, (n) => n.authoredAt, toVisitNote);
  },
  async conditions(patient: PatientRef, _: unknown, ctx: ClinicalContext) {
    return (await ctx.records.conditions(patient.id)).map(toCondition);
  },
  async allergies(patient: PatientRef, _: unknown, ctx: ClinicalContext) {
    return (await ctx.records.allergies(patient.id)).map(toAllergy);
  },
  async immunizations(patient: PatientRef, _: unknown, ctx: ClinicalContext) {
    return (await ctx.records.immunizations(patient.id)).map(toImmunization);
  },
  async vitals(patient: PatientRef, { first }: { first?: number | null }, ctx: ClinicalContext) {
    return (await ctx.records.vitals(patient.id, first)).map(toVital);
  },
  async vitalSigns(patient: PatientRef, args: PageArgs, ctx: ClinicalContext) {
    const { page, rows } = await ctx.records.vitalSigns(patient.id, args);
    return toPatientConnection(patient.id, page, rows, (v) => v.recordedAt, toVital);
  },
};
