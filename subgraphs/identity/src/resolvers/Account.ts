import type { IdentityContext } from '../context';
import type { AccountModel } from './mappers';

export const Account = {
  async signInMethods(account: AccountModel, _: unknown, ctx: IdentityContext) {
    const pivCards = await ctx.loaders.pivCardsOfAccount.load(account.id);
    // Every person in the registry has an EDIPI on a common access card.
    return [...(account.username ? ['DS_LOGON'] : []), 'CAC', ...(pivCards.length ? ['PIV'] : [])];
  },
};
