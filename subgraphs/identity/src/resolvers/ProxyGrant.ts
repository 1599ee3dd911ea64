import { notFound } from '@portal/kit';
import type { ProxyGrantResolvers } from '../generated/graphql';

export const ProxyGrant: ProxyGrantResolvers = {
  // The grantor named this person: their name is the grantor's to see, on their own grant.
  async proxyName(grant, _, ctx) {
    const person = await ctx.loaders.person.load(grant.proxyPersonId);
    if (!person) throw notFound('The proxy');
    return { given: person.givenName, family: person.familyName };
  },
  active: (grant, _, ctx) => ctx.proxies.active(grant.row),
};
