import { toPractitioner } from './mappers';
import type { PractitionerResolvers } from '../generated/graphql';

export const Practitioner: PractitionerResolvers = {
  async __resolveReference(ref, ctx) {
    const person = await ctx.people.practitioner(ref.id);
    return person && toPractitioner(person);
  },
  async careTeams(practitioner, _, ctx) {
    return (await ctx.people.careTeamsOfPractitioner(practitioner.id)).map((t) => ({ id: t.id, name: t.name }));
  },
};
