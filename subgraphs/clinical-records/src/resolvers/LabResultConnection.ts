import type { LabResultConnectionResolvers } from '../generated/graphql';

/** The COUNT runs (batched) only for a query that asks for totalCount (`@portal/kit` toConnection). */
export const LabResultConnection: LabResultConnectionResolvers = {
  totalCount: (c) => c.totalCount(),
};
