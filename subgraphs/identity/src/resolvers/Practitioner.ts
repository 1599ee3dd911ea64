import type { IdentityContext } from '../context';
import { toPractitioner, type PractitionerModel } from './mappers';

export const Practitioner = {
  async __resolveReference(ref: { id: string }, ctx: IdentityContext) {
    const person = await ctx.people.practitioner(ref.id);
    return person && toPractitioner(person);
  },
  async careTeams(practitioner: PractitionerModel, _: unknown, ctx: IdentityContext) {
    return (await ctx.people.careTeamsOfPractitioner(practitioner.id)).map((t) => ({ id: t.id, name: t.name }));
  },
};
