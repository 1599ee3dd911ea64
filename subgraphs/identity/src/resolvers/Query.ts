import type { QueryResolvers } from '../generated/graphql';
import { toPatient } from './mappers';

const SUPPORT_CONTACTS = [
  { name: 'MHS GENESIS Patient Portal Help Desk', purpose: 'Problems with the patient portal', phone: '1-800-600-9332' },
  { name: 'DS Logon Help Desk (DMDC)', purpose: 'Problems with a DS Logon account or password', phone: '1-800-538-9552' },
];

export const Query: QueryResolvers = {
  // A service token names no person and opens no session: it has no `me`.
  me: (_, __, ctx) => (ctx.viewer && ctx.viewer.role !== 'SERVICE' ? { viewer: ctx.viewer } : null),
  supportContacts: () => SUPPORT_CONTACTS,
  async smartCardChallenge(_, __, ctx) {
    await ctx.limits.consume('challenge', ctx.clientAddress);
    return ctx.smartCards.challenge();
  },
  // The viewer's own record or one they are a proxy for (../policy.ts, Query.patient); NOT_FOUND otherwise.
  patient: async (_, { id }, ctx) => toPatient(await ctx.proxies.patient(id)),
};
