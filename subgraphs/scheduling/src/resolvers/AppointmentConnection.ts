import type { AppointmentConnectionResolvers } from '../generated/graphql';

/** The COUNT runs only for a query that asks for totalCount (`@portal/kit` toConnection). */
export const AppointmentConnection: AppointmentConnectionResolvers = {
  totalCount: (c) => c.totalCount(),
};
