import { toHealthTopic, toLabResultPoint } from './mappers';
import type { LabResultResolvers } from '../generated/graphql';

export const LabResult: LabResultResolvers = {
  async history(result, _, ctx) {
    return (await ctx.records.labHistory(result)).map(toLabResultPoint);
  },
  async education(result, _, ctx) {
    return (await ctx.library.topicsFor('LOINC', result.loincCode)).map(toHealthTopic);
  },
};
