import type { VitalConnectionResolvers } from '../generated/graphql';

/** The COUNT runs (batched) only for a query that asks for totalCount (`@portal/kit` toConnection). */
export const VitalConnection: VitalConnectionResolvers = {
  totalCount: (c) => c.totalCount(),
};
