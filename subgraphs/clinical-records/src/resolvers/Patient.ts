import { toAllergy, toCondition, toImmunization, toLabResult, toPatientConnection, toVisitNote, toVital } from './mappers';
import type { PatientResolvers } from '../generated/graphql';

export const Patient: PatientResolvers = {
  // Identity owns the patient; every field below checks access itself.
  __resolveReference: (ref) => ({ id: ref.id }),

  async labResults(patient, args, ctx) {
    const { page, rows } = await ctx.records.labResults(patient.id, args);
    return toPatientConnection(patient.id, page, rows, (r) => r.resultedAt, toLabResult);
  },
  async visitNotes(patient, args, ctx) {
    const { page, rows } = await ctx.records.visitNotes(patient.id, args);
    return toPatientConnection(patient.id, page, rows, (n) => n.authoredAt, toVisitNote);
  },
  async conditions(patient, _, ctx) {
    return (await ctx.records.conditions(patient.id)).map(toCondition);
  },
  async allergies(patient, _, ctx) {
    return (await ctx.records.allergies(patient.id)).map(toAllergy);
  },
  async immunizations(patient, _, ctx) {
    return (await ctx.records.immunizations(patient.id)).map(toImmunization);
  },
  async vitals(patient, { first }, ctx) {
    return (await ctx.records.vitals(patient.id, first)).map(toVital);
  },
  async vitalSigns(patient, args, ctx) {
    const { page, rows } = await ctx.records.vitalSigns(patient.id, args);
    return toPatientConnection(patient.id, page, rows, (v) => v.recordedAt, toVital);
  },
};
