import { toThreadConnection } from './mappers';
import type { CareTeamResolvers } from '../generated/graphql';

export const CareTeam: CareTeamResolvers = {
  // Identity owns the team's name; this subgraph adds its threads.
  __resolveReference: (ref) => ({ id: ref.id }),
  async threads(team, args, ctx) {
    return toThreadConnection(await ctx.threads.teamThreads(team.id, args));
  },
};
