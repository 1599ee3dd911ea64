import { toAffiliation, toPatient } from './mappers';
import type { PatientResolvers } from '../generated/graphql';

export const Patient: PatientResolvers = {
  async __resolveReference(ref, ctx) {
    const person = await ctx.people.patient(ref.id);
    return person && toPatient(person);
  },
  async affiliations(patient, _, ctx) {
    return (await ctx.loaders.affiliations.load(patient.id)).map(toAffiliation);
  },
  // Only the patient themself: decided in ../policy.ts (Patient.accessLog).
  accessLog: (patient, args, ctx) => ctx.accessLog.log(patient.id, args),
  async careTeams(patient, _, ctx) {
    return (await ctx.people.careTeamsOfPatient(patient.id)).map((t) => ({ id: t.id, name: t.name }));
  },
};
