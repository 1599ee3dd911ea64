import { toDraft, toMessage, toThread } from './mappers';
import type { MutationResolvers } from '../generated/graphql';

export const Mutation: MutationResolvers = {
  sendMessage: async (_, { input }, ctx) => toThread(await ctx.writer.sendMessage(input)),
  replyToThread: async (_, { input }, ctx) => {
    const { message, thread } = await ctx.writer.reply(input);
    return toMessage(message, thread.patientId);
  },
  markThreadRead: async (_, { threadId }, ctx) => toThread(await ctx.writer.markRead(threadId)),
  archiveThread: async (_, { threadId }, ctx) => toThread(await ctx.writer.archive(threadId)),

  saveMessageDraft: async (_, { input }, ctx) => toDraft(await ctx.drafts.save(input)),
  updateMessageDraft: async (_, { input }, ctx) => toDraft(await ctx.drafts.update(input)),
  sendMessageDraft: async (_, { draftId }, ctx) => toThread(await ctx.drafts.send(draftId)),
  deleteMessageDraft: (_, { draftId }, ctx) => ctx.drafts.delete(draftId),

  postCareTeamMessage: async (_, { input }, ctx) =>
    toThread(await ctx.writer.postCareTeamMessage(input)),
};
