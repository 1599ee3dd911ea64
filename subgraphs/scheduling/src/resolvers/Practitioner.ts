import type { SchedulingContext } from '../context';
import { toAppointment } from './mappers';

/** Practitioner is identity's entity; this subgraph adds the practitioner's own schedule. */
export const Practitioner = {
  __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
  async schedule(practitioner: { id: string }, args: { from: Date; to: Date }, ctx: SchedulingContext) {
    return (await ctx.practice.schedule(practitioner.id, args.from, args.to)).map(toAppointment);
  },
};
