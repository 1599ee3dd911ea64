import type { SubgraphModule } from '@portal/kit';
import { createContext, type MessagingContext } from './context';
import { entities } from './db/entities';
import { CreateMessaging1764000000300 } from './db/migrations/1764000000300-CreateMessaging';
import { DraftThreads1764000000301 } from './db/migrations/1764000000301-DraftThreads';
import { TeamOpenThreads1764000000302 } from './db/migrations/1764000000302-TeamOpenThreads';
import { ThreadSensitivity1764000000303 } from './db/migrations/1764000000303-ThreadSensitivity';
import { resolvers } from './resolvers';
import { typeDefs } from './schema';
import { messagingErrors } from './errors';

/**
 * Messaging: secure message threads between patients and their care teams,
 * folders, per-reader read state, drafts, and a service-facing way for other
 * subgraphs to post to a patient from a care team. Tokens are verified with identity's JWKS
 * and care access is asked of identity (the kit's defaults).
 */
export function createMessagingModule(): SubgraphModule<MessagingContext> {
  return {
    name: 'messaging',
    errorCodes: messagingErrors,
    typeDefs,
    resolvers,
    entities,
    migrations: [CreateMessaging1764000000300, DraftThreads1764000000301, TeamOpenThreads1764000000302, ThreadSensitivity1764000000303],
    createContext,
  };
}
