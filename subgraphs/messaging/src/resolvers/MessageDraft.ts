import { toThread } from './mappers';
import type { MessageDraftResolvers } from '../generated/graphql';

export const MessageDraft: MessageDraftResolvers = {
  async thread(d, _, ctx) {
    return toThread(await ctx.threads.thread(d.threadId, 'MessageDraft.thread'));
  },
};
