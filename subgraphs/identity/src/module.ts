import { TokenVerifier, type PortalConfig, type SubgraphModule } from '@portal/kit';
import { createContext, type IdentityContext, type IdentityDeps } from './context';
import { entities } from './db/entities';
import { IdentityStore } from './db/store';
import { CreateIdentity1764000000100 } from './db/migrations/1764000000100-CreateIdentity';
import { SmartCardsSessionsServices1764000000150 } from './db/migrations/1764000000150-SmartCardsSessionsServices';
import { StatelessChallenges1764000000170 } from './db/migrations/1764000000170-StatelessChallenges';
import { loadKeyRing } from './keys';
import { resolvers } from './resolvers';
import { identityRoutes } from './routes';
import { typeDefs } from './schema';
import { createSessionService } from './services/sessions';
import { ChallengeCodec, challengeKeyFrom } from './smartcard/challenge';
import { devCaFile, ensureDevPki } from './smartcard/devPki';
import { TrustStore } from './smartcard/trust';

export interface IdentityOptions {
  /** Test seam: the time sessions, challenges and lock-outs are measured against. */
  clock?: () => Date;
}

/**
 * Identity: people, accounts, sign-in, sessions and tokens, care teams. It
 * signs tokens, so it verifies them with its own keys rather than fetching its
 * own JWKS, and it checks sessions where they live rather than asking itself.
 */
export function createIdentityModule(options: IdentityOptions = {}): SubgraphModule<IdentityContext> {
  const clock = options.clock ?? (() => new Date());
  let deps: IdentityDeps | undefined;
  const need = () => {
    if (!deps) throw new Error('identity: keys and sessions not loaded');
    return deps;
  };
  return {
    name: 'identity',
    typeDefs,
    resolvers,
    entities,
    migrations: [CreateIdentity1764000000100, SmartCardsSessionsServices1764000000150, StatelessChallenges1764000000170],
    async verifier({ config, database }) {
      const keys = await loadKeyRing(config);
      deps = {
        keys,
        clock,
        trust: trustStoreFor(config),
        challenges: new ChallengeCodec(challengeKeyFrom(keys.signing.privateKey)),
        sessions: createSessionService(config, database.dataSource, clock),
      };
      return new TokenVerifier({ jwks: { keys: keys.jwks } });
    },
    careAccess: ({ database }) => {
      const store = new IdentityStore(database.dataSource);
      return (viewer, ids) => (viewer.role === 'PRACTITIONER' ? store.patientsTreatedBy(viewer.personId, ids) : Promise.resolve(new Set()));
    },
    sessions: () => need().sessions,
    createContext: (base) => createContext(base, need()),
    routes: (runtime) => identityRoutes(runtime, need()),
  };
}

/** SMARTCARD_CA_FILE, or in development the dev CA under DATA_DIR/pki, written on first use when missing. */
function trustStoreFor(config: PortalConfig): TrustStore {
  if (config.smartcardCaFile) return new TrustStore({ caFile: config.smartcardCaFile, crlFile: config.smartcardCrlFile });
  if (config.production) throw new Error('SMARTCARD_CA_FILE is required in production.');
  return new TrustStore({
    caFile: devCaFile(config.dataDir),
    crlFile: config.smartcardCrlFile,
    prepare: async () => void (await ensureDevPki(config.dataDir)),
  });
}
