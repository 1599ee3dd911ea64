import type { VisitNoteConnectionResolvers } from '../generated/graphql';

/** The COUNT runs (batched) only for a query that asks for totalCount (`@portal/kit` toConnection). */
export const VisitNoteConnection: VisitNoteConnectionResolvers = {
  totalCount: (c) => c.totalCount(),
};
