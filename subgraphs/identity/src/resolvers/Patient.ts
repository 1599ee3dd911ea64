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
  async careTeams(patient, _, ctx) {
    return (await ctx.people.careTeamsOfPatient(patient.id)).map((t) => ({ id: t.id, name: t.name }));
  },
};
