import type { SubgraphModule } from '@portal/kit';
import { createContext, type MessagingContext } from './context';
import { entities } from './db/entities';
import { CreateMessaging1764000000300 } from './db/migrations/1764000000300-CreateMessaging';
import { resolvers } from './resolvers';
import { typeDefs } from './schema';

/**
 * Messaging: secure message threads between patients and their care teams,
 * folders and per-reader read state. Tokens are verified with identity's JWKS
 * and care access is asked of identity (the kit's defaults).
 */
export function createMessagingModule(): SubgraphModule<MessagingContext> {
  return {
    name: 'messaging',
    typeDefs,
    resolvers,
    entities,
    migrations: [CreateMessaging1764000000300],
    createContext,
  };
}
