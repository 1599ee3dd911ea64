import type { IdentityContext } from '../context';
import type { DsLogonCredential, NewDsLogonAccount } from '../services/accounts';
import { underLimits } from '../services/limits';
import type { CardProof, PivRegistration } from '../services/smartCards';
import { toAccount, toPivCard, toSignInPayload } from './mappers';

export const Mutation = {
  async signInWithDsLogon(_: unknown, { input }: { input: { username: string; password: string } }, ctx: IdentityContext) {
    return toSignInPayload(await underLimits(ctx, 'signIn', () => ctx.signIn.withDsLogon(input.username, input.password)));
  },
  async signInWithSmartCard(_: unknown, { input }: { input: CardProof }, ctx: IdentityContext) {
    return toSignInPayload(await underLimits(ctx, 'signIn', () => ctx.smartCards.signInWithCard(input)));
  },
  async signInWithClientCertificate(_: unknown, __: unknown, ctx: IdentityContext) {
    return toSignInPayload(await underLimits(ctx, 'signIn', () => ctx.smartCards.signInWithClientCertificate(ctx.clientCertificate)));
  },
  async createDsLogonAccount(_: unknown, { input }: { input: NewDsLogonAccount }, ctx: IdentityContext) {
    return toAccount(await underLimits(ctx, 'account', () => ctx.accounts.create(input)));
  },
  async addDsLogonCredential(_: unknown, { input }: { input: DsLogonCredential }, ctx: IdentityContext) {
    return toAccount(await ctx.accounts.addDsLogon(input));
  },
  async registerPivCard(_: unknown, { input }: { input: PivRegistration }, ctx: IdentityContext) {
    return toPivCard(await underLimits(ctx, 'account', () => ctx.smartCards.registerPiv(input)));
  },
  async deactivateDsLogonAccount(_: unknown, { accountId }: { accountId: string }, ctx: IdentityContext) {
    return toAccount(await ctx.accounts.deactivate(accountId));
  },
  signOut: (_: unknown, __: unknown, ctx: IdentityContext) => ctx.signIn.signOut(ctx.access.requireViewer()),
};
