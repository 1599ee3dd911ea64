import type { MessagingContext } from '../context';
import type { SaveDraftInput, UpdateDraftInput } from '../services/drafts';
import type { PostCareTeamMessageInput, ReplyToThreadInput, SendMessageInput } from '../services/writes';
import { toDraft, toMessage, toThread } from './mappers';

type Input<T> = { input: T };

export const Mutation = {
  sendMessage: async (_: unknown, { input }: Input<SendMessageInput>, ctx: MessagingContext) => toThread(await ctx.writer.sendMessage(input)),
  replyToThread: async (_: unknown, { input }: Input<ReplyToThreadInput>, ctx: MessagingContext) => toMessage(await ctx.writer.reply(input)),
  markThreadRead: async (_: unknown, { threadId }: { threadId: string }, ctx: MessagingContext) => toThread(await ctx.writer.markRead(threadId)),
  archiveThread: async (_: unknown, { threadId }: { threadId: string }, ctx: MessagingContext) => toThread(await ctx.writer.archive(threadId)),

  saveMessageDraft: async (_: unknown, { input }: Input<SaveDraftInput>, ctx: MessagingContext) => toDraft(await ctx.drafts.save(input)),
  updateMessageDraft: async (_: unknown, { input }: Input<UpdateDraftInput>, ctx: MessagingContext) => toDraft(await ctx.drafts.update(input)),
  sendMessageDraft: async (_: unknown, { draftId }: { draftId: string }, ctx: MessagingContext) => toThread(await ctx.drafts.send(draftId)),
  deleteMessageDraft: (_: unknown, { draftId }: { draftId: string }, ctx: MessagingContext) => ctx.drafts.delete(draftId),

  postCareTeamMessage: async (_: unknown, { input }: Input<PostCareTeamMessageInput>, ctx: MessagingContext) =>
    toThread(await ctx.writer.postCareTeamMessage(input)),
};
