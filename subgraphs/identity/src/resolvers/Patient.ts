import type { IdentityContext } from '../context';
import { toAffiliation, toPatient, type PatientModel } from './mappers';

export const Patient = {
  async __resolveReference(ref: { id: string }, ctx: IdentityContext) {
    const person = await ctx.people.patient(ref.id);
    return person && toPatient(person);
  },
  async affiliations(patient: PatientModel, _: unknown, ctx: IdentityContext) {
    return (await ctx.loaders.affiliations.load(patient.id)).map(toAffiliation);
  },
  async careTeams(patient: PatientModel, _: unknown, ctx: IdentityContext) {
    return (await ctx.people.careTeamsOfPatient(patient.id)).map((t) => ({ id: t.id, name: t.name }));
  },
};
