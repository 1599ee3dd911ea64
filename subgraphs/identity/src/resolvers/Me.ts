import { notFound, type Viewer } from '@portal/kit';
import type { IdentityContext } from '../context';
import { toAccount, toPatient, toPractitioner } from './mappers';

type MeModel = { viewer: Viewer };

export const Me = {
  async account({ viewer }: MeModel, _: unknown, ctx: IdentityContext) {
    const account = await ctx.loaders.account.load(viewer.accountId);
    if (!account) throw notFound('Your account');
    return toAccount(account);
  },
  // The idle deadline, unless the token's absolute end comes first.
  session: ({ viewer }: MeModel) => ({
    method: viewer.method,
    expiresAt: viewer.sessionExpiresAt && viewer.sessionExpiresAt < viewer.expiresAt ? viewer.sessionExpiresAt : viewer.expiresAt,
  }),
  async patient({ viewer }: MeModel, _: unknown, ctx: IdentityContext) {
    // Null for anyone but a patient: decided in ../policy.ts (Me.patient).
    const person = await ctx.people.ownPatient(viewer);
    return person && toPatient(person);
  },
  async practitioner({ viewer }: MeModel, _: unknown, ctx: IdentityContext) {
    // Null for anyone but care staff: decided in ../policy.ts (Me.practitioner).
    const person = await ctx.people.ownPractitioner(viewer);
    return person && toPractitioner(person);
  },
};
