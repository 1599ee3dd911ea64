import { toThread } from './mappers';
import type { QueryResolvers } from '../generated/graphql';

export const Query: QueryResolvers = {
  async messageThread(_, { id }, ctx) {
    return toThread(await ctx.threads.thread(id));
  },
};
