import { toAppointment } from './mappers';
import type { PractitionerResolvers } from '../generated/graphql';

/** Practitioner is identity's entity; this subgraph adds the practitioner's own schedule. */
export const Practitioner: PractitionerResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  async schedule(practitioner, args, ctx) {
    return (await ctx.practice.schedule(practitioner.id, args.from, args.to)).map(toAppointment);
  },
};
