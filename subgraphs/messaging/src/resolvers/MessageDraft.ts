import type { MessagingContext } from '../context';
import { toThread, type DraftModel } from './mappers';

export const MessageDraft = {
  async thread(d: DraftModel, _: unknown, ctx: MessagingContext) {
    return toThread(await ctx.threads.thread(d.threadId, 'MessageDraft.thread'));
  },
};
