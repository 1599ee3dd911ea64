import type { IdentityContext } from '../context';
import { toAccount } from './mappers';

export const Mutation = {
  async signInWithDsLogon(_: unknown, { input }: { input: { username: string; password: string } }, ctx: IdentityContext) {
    const result = await ctx.signIn.withDsLogon(input.username, input.password);
    return { accessToken: result.accessToken, expiresAt: result.expiresAt, account: toAccount(result.account) };
  },
};
