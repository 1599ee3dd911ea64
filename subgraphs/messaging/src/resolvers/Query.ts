import type { MessagingContext } from '../context';
import { toThread } from './mappers';

export const Query = {
  async messageThread(_: unknown, { id }: { id: string }, ctx: MessagingContext) {
    return toThread(await ctx.threads.thread(id));
  },
};
