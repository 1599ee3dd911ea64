import type { VitalConnectionResolvers } from '../generated/graphql';

export const VitalConnection: VitalConnectionResolvers = {
  totalCount: (c, _, ctx) => ctx.records.vitalCount(c.patientId),
};
