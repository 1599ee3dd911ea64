import type { MessagingContext } from '../context';
import { toDraft, toMessage, toThread, type ThreadModel } from './mappers';

export const MessageThread = {
  async __resolveReference(ref: { id: string }, ctx: MessagingContext) {
    return toThread(await ctx.threads.thread(ref.id, 'MessageThread.__resolveReference'));
  },
  unread: (t: ThreadModel, _: unknown, ctx: MessagingContext) => ctx.threads.unread(t.id),
  canReply: (t: ThreadModel, _: unknown, ctx: MessagingContext) => ctx.threads.canReply(t),
  careTeam: (t: ThreadModel) => ({ id: t.careTeamId }),
  patient: (t: ThreadModel) => ({ id: t.patientId }),
  async messages(t: ThreadModel, _: unknown, ctx: MessagingContext) {
    return (await ctx.threads.messages(t.id)).map(toMessage);
  },
  async draft(t: ThreadModel, _: unknown, ctx: MessagingContext) {
    const draft = await ctx.threads.draft(t.id);
    return draft && toDraft(draft);
  },
};
