import type { ProxyAuthorResolvers } from '../generated/graphql';

/** A proxy's name on a message they wrote in a patient's name (messaging's Message.proxyAuthor): decided in ../policy.ts. */
export const ProxyAuthor: ProxyAuthorResolvers = {
  __resolveReference: (ref, ctx) => ctx.proxies.author(ref.id, ref.patientId),
};
