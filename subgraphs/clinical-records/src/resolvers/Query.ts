import { toHealthTopic } from './mappers';
import type { QueryResolvers } from '../generated/graphql';

export const Query: QueryResolvers = {
  async healthTopics(_, { search }, ctx) {
    return (await ctx.library.search(search)).map(toHealthTopic);
  },
};
