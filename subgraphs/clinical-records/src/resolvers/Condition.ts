import { toHealthTopic } from './mappers';
import type { ConditionResolvers } from '../generated/graphql';

export const Condition: ConditionResolvers = {
  async education(condition, _, ctx) {
    return (await ctx.library.topicsFor('ICD10', condition.code)).map(toHealthTopic);
  },
};
