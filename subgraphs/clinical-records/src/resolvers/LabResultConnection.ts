import type { LabResultConnectionResolvers } from '../generated/graphql';

export const LabResultConnection: LabResultConnectionResolvers = {
  totalCount: (c, _, ctx) => ctx.records.labResultCount(c.patientId),
};
