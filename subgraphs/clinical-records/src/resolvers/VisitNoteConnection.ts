import type { VisitNoteConnectionResolvers } from '../generated/graphql';

export const VisitNoteConnection: VisitNoteConnectionResolvers = {
  totalCount: (c, _, ctx) => ctx.records.visitNoteCount(c.patientId),
};
