import type { ClinicalContext } from '../context';
import { toVisitNote } from './mappers';

export const VisitNote = {
  async __resolveReference(ref: { id: string }, ctx: ClinicalContext) {
    return toVisitNote(await ctx.records.visitNote(ref.id));
  },
};
