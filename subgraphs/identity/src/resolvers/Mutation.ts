import { underLimits } from '../services/limits';
import { toAccount, toPivCard, toProxyGrant, toSignInPayload } from './mappers';
import type { MutationResolvers } from '../generated/graphql';

export const Mutation: MutationResolvers = {
  async signInWithDsLogon(_, { input }, ctx) {
    return toSignInPayload(await underLimits(ctx, 'signIn', () => ctx.signIn.withDsLogon(input.username, input.password)));
  },
  async signInWithSmartCard(_, { input }, ctx) {
    return toSignInPayload(await underLimits(ctx, 'signIn', () => ctx.smartCards.signInWithCard(input)));
  },
  async signInWithClientCertificate(_, __, ctx) {
    return toSignInPayload(await underLimits(ctx, 'signIn', () => ctx.smartCards.signInWithClientCertificate(ctx.clientCertificate)));
  },
  async createDsLogonAccount(_, { input }, ctx) {
    return toAccount(await underLimits(ctx, 'account', () => ctx.accounts.create(input)));
  },
  async addDsLogonCredential(_, { input }, ctx) {
    return toAccount(await ctx.accounts.addDsLogon(input));
  },
  async registerPivCard(_, { input }, ctx) {
    return toPivCard(await underLimits(ctx, 'account', () => ctx.smartCards.registerPiv(input)));
  },
  async deactivateDsLogonAccount(_, { accountId }, ctx) {
    return toAccount(await ctx.accounts.deactivate(accountId));
  },
  signOut: (_, __, ctx) => ctx.signIn.signOut(ctx.access.requireViewer()),
  grantProxyAccess: async (_, { input }, ctx) => toProxyGrant(await ctx.proxies.grant(input)),
  revokeProxyAccess: async (_, { id }, ctx) => toProxyGrant(await ctx.proxies.revoke(id)),
};
