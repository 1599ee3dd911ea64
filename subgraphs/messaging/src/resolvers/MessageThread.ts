import { toDraft, toMessage, toThread } from './mappers';
import type { MessageThreadResolvers } from '../generated/graphql';

export const MessageThread: MessageThreadResolvers = {
  async __resolveReference(ref, ctx) {
    return toThread(await ctx.threads.thread(ref.id, 'MessageThread.__resolveReference'));
  },
  unread: (t, _, ctx) => ctx.threads.unread(t.id),
  canReply: (t, _, ctx) => ctx.threads.canReply(t),
  careTeam: (t) => ({ id: t.careTeamId }),
  patient: (t) => ({ id: t.patientId }),
  async messages(t, _, ctx) {
    return (await ctx.threads.messages(t.id)).map((m) => toMessage(m, t.patientId));
  },
  async draft(t, _, ctx) {
    const draft = await ctx.threads.draft(t.id);
    return draft && toDraft(draft);
  },
};
