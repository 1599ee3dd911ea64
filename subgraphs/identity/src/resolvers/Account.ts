import type { AccountResolvers } from '../generated/graphql';

export const Account: AccountResolvers = {
  async signInMethods(account, _, ctx) {
    const pivCards = await ctx.loaders.pivCardsOfAccount.load(account.id);
    // Every person in the registry has an EDIPI on a common access card.
    return [...(account.username ? ['DS_LOGON' as const] : []), 'CAC', ...(pivCards.length ? ['PIV' as const] : [])];
  },
};
