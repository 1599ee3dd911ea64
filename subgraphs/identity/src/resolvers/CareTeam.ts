import type { IdentityContext } from '../context';

export const CareTeam = {
  async __resolveReference(ref: { id: string }, ctx: IdentityContext) {
    const team = await ctx.people.careTeam(ref.id);
    return team && { id: team.id, name: team.name };
  },
};
