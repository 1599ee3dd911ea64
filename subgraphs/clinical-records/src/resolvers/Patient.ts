import { toAllergy, toCondition, toImmunization, toLabResult, toVisitNote, toVital } from './mappers';
import type { PatientResolvers } from '../generated/graphql';

export const Patient: PatientResolvers = {
  // Identity owns the patient; every field below checks access itself.
  __resolveReference: (ref) => ({ id: ref.id }),

  labResults: (patient, args, ctx) => ctx.records.labResults(patient.id, args, toLabResult),
  visitNotes: (patient, args, ctx) => ctx.records.visitNotes(patient.id, args, toVisitNote),
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
  vitalSigns: (patient, args, ctx) => ctx.records.vitalSigns(patient.id, args, toVital),
};
