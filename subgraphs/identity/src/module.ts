import { loadSigningKey, TokenVerifier, type SigningKey, type SubgraphModule } from '@portal/kit';
import { createContext, type IdentityContext } from './context';
import { entities } from './db/entities';
import { IdentityStore } from './db/store';
import { CreateIdentity1764000000100 } from './db/migrations/1764000000100-CreateIdentity';
import { resolvers } from './resolvers';
import { identityRoutes } from './routes';
import { typeDefs } from './schema';

/**
 * Identity: people, accounts, sign-in and tokens, care teams. It signs tokens,
 * so it verifies them with its own keys rather than fetching its own JWKS.
 */
export function createIdentityModule(): SubgraphModule<IdentityContext> {
  let signingKey: SigningKey | undefined;
  const key = () => {
    if (!signingKey) throw new Error('identity: signing key not loaded');
    return signingKey;
  };
  return {
    name: 'identity',
    typeDefs,
    resolvers,
    entities,
    migrations: [CreateIdentity1764000000100],
    async verifier({ config }) {
      signingKey = await loadSigningKey({ file: config.tokenSigningKeyFile, dataDir: config.dataDir, production: config.production });
      return new TokenVerifier({ jwks: { keys: [signingKey.publicJwk] } });
    },
    careAccess: ({ database }) => {
      const store = new IdentityStore(database.dataSource);
      return (viewer, ids) => (viewer.role === 'PRACTITIONER' ? store.patientsTreatedBy(viewer.personId, ids) : Promise.resolve(new Set()));
    },
    createContext: (base) => createContext(base, key()),
    routes: (runtime) => identityRoutes(runtime, () => [key()]),
  };
}
