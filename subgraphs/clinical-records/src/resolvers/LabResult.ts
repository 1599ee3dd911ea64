import type { ClinicalContext } from '../context';
import { toHealthTopic, toLabResultPoint, type LabResultModel } from './mappers';

export const LabResult = {
  async history(result: LabResultModel, _: unknown, ctx: ClinicalContext) {
    return (await ctx.records.labHistory(result)).map(toLabResultPoint);
  },
  async education(result: LabResultModel, _: unknown, ctx: ClinicalContext) {
    return (await ctx.library.topicsFor('LOINC', result.loincCode)).map(toHealthTopic);
  },
};
