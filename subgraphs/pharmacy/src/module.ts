import type { SubgraphModule } from '@portal/kit';
import { createContext, type PharmacyContext } from './context';
import { entities } from './db/entities';
import { CreatePharmacy1764000000400 } from './db/migrations/1764000000400-CreatePharmacy';
import { resolvers } from './resolvers';
import { typeDefs } from './schema';

/**
 * Pharmacy: medications, prescriptions, fills, refill and renewal requests.
 * Tokens are verified against identity's JWKS and care access is asked of
 * identity (the kit's defaults).
 */
export function createPharmacyModule(): SubgraphModule<PharmacyContext> {
  return {
    name: 'pharmacy',
    typeDefs,
    resolvers,
    entities,
    migrations: [CreatePharmacy1764000000400],
    createContext: (base) => createContext(base),
  };
}
