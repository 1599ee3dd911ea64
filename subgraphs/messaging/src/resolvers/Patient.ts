import type { PageArgs } from '@portal/kit';
import type { MessagingContext } from '../context';
import type { Folder } from '../db/store';
import { toThreadConnection } from './mappers';

type PatientRef = { id: string };

export const Patient = {
  // The fields check access; the reference itself reveals nothing.
  __resolveReference: (ref: PatientRef) => ({ id: ref.id }),
  unreadMessageCount: (p: PatientRef, _: unknown, ctx: MessagingContext) => ctx.threads.unreadMessageCount(p.id),
  async messageThreads(p: PatientRef, args: PageArgs & { folder: Folder }, ctx: MessagingContext) {
    return toThreadConnection(await ctx.threads.patientThreads(p.id, args.folder, args));
  },
};
