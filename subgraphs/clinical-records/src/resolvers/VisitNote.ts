import { toVisitNote } from './mappers';
import type { VisitNoteResolvers } from '../generated/graphql';

export const VisitNote: VisitNoteResolvers = {
  async __resolveReference(ref, ctx) {
    return toVisitNote(await ctx.records.visitNote(ref.id));
  },
};
