import type { ClinicalContext } from '../context';
import { toHealthTopic, type ConditionModel } from './mappers';

export const Condition = {
  async education(condition: ConditionModel, _: unknown, ctx: ClinicalContext) {
    return (await ctx.library.topicsFor('ICD10', condition.code)).map(toHealthTopic);
  },
};
