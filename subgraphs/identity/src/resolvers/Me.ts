import { notFound } from '@portal/kit';
import { toAccount, toPatient, toPractitioner } from './mappers';
import type { MeResolvers } from '../generated/graphql';

export const Me: MeResolvers = {
  async account({ viewer }, _, ctx) {
    const account = await ctx.loaders.account.load(viewer.accountId);
    if (!account) throw notFound('Your account');
    return toAccount(account);
  },
  // The idle deadline, unless the token's absolute end comes first.
  session: ({ viewer }) => ({
    method: viewer.method,
    expiresAt: viewer.sessionExpiresAt && viewer.sessionExpiresAt < viewer.expiresAt ? viewer.sessionExpiresAt : viewer.expiresAt,
  }),
  async patient({ viewer }, _, ctx) {
    if (viewer.role !== 'PATIENT') return null;
    const person = await ctx.people.patient(viewer.personId);
    return person && toPatient(person);
  },
  async practitioner({ viewer }, _, ctx) {
    if (viewer.role !== 'PRACTITIONER' && viewer.role !== 'PHARMACIST') return null;
    const person = await ctx.people.practitioner(viewer.personId);
    return person && toPractitioner(person);
  },
};
