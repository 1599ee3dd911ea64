import type { MessageThreadConnectionResolvers } from '../generated/graphql';

/** The COUNT runs only for a query that asks for totalCount (`@portal/kit` toConnection). */
export const MessageThreadConnection: MessageThreadConnectionResolvers = {
  totalCount: (c) => c.totalCount(),
};
