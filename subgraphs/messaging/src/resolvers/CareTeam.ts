import type { PageArgs } from '@portal/kit';
import type { MessagingContext } from '../context';
import { toThreadConnection } from './mappers';

type CareTeamRef = { id: string };

export const CareTeam = {
  // Identity owns the team's name; this subgraph adds its threads.
  __resolveReference: (ref: CareTeamRef) => ({ id: ref.id }),
  async threads(team: CareTeamRef, args: PageArgs, ctx: MessagingContext) {
    return toThreadConnection(await ctx.threads.teamThreads(team.id, args));
  },
};
