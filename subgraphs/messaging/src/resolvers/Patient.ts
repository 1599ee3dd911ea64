import { toThreadConnection } from './mappers';
import type { PatientResolvers } from '../generated/graphql';

export const Patient: PatientResolvers = {
  // The fields check access; the reference itself reveals nothing.
  __resolveReference: (ref) => ({ id: ref.id }),
  unreadMessageCount: (p, _, ctx) => ctx.threads.unreadMessageCount(p.id),
  async messageThreads(p, args, ctx) {
    return toThreadConnection(await ctx.threads.patientThreads(p.id, args.folder, args));
  },
};
