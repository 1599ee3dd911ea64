import type { CareTeamResolvers } from '../generated/graphql';

export const CareTeam: CareTeamResolvers = {
  async __resolveReference(ref, ctx) {
    const team = await ctx.people.careTeam(ref.id);
    return team && { id: team.id, name: team.name };
  },
};
