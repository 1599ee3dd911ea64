import { asBackground, registerActiveSessions, TokenVerifier, type PortalConfig, type SubgraphModule } from '@portal/kit';
import { SESSION_IDLE_SECONDS } from '@portal/kit';
import { createContext, type IdentityContext, type IdentityDeps } from './context';
import { entities } from './db/entities';
import { IdentityStore } from './db/store';
import { CreateIdentity1764000000100 } from './db/migrations/1764000000100-CreateIdentity';
import { SmartCardsSessionsServices1764000000150 } from './db/migrations/1764000000150-SmartCardsSessionsServices';
import { AuditAndNotices1764000000160 } from './db/migrations/1764000000160-AuditAndNotices';
import { StatelessChallenges1764000000170 } from './db/migrations/1764000000170-StatelessChallenges';
import { NoticeDeadLetters1764000000180 } from './db/migrations/1764000000180-NoticeDeadLetters';
import { ProxyAccess1764000000190 } from './db/migrations/1764000000190-ProxyAccess';
import { loadKeyRing } from './keys';
import { NoticeWorker, type NoticeOptions } from './notices/worker';
import { resolvers } from './resolvers';
import { identityRoutes } from './routes';
import { typeDefs } from './schema';
import { configurePasswordHashing } from './services/passwords';
import { localProxyAccess } from './services/proxyAccess';
import { createSessionService } from './services/sessions';
import { ChallengeCodec, challengeKeyFrom } from './smartcard/challenge';
import { DEV_CAC_CA, DEV_PIV_CA, devCaFile, devCrlFile, ensureDevPki } from './smartcard/devPki';
import { TrustStore, type CardKind, type CardRules } from './smartcard/trust';
import { x509 } from './smartcard/x509';
import { identityErrors } from './errors';
import { DEFAULT_CRL_GRACE_HOURS } from './settings';

export interface IdentityOptions {
  /** Test seam: the time sessions, challenges and lock-outs are measured against. */
  clock?: () => Date;
  /** Delivers the notices of added and removed credentials through messaging; without it they wait in identity_notice. */
  notices?: NoticeOptions;
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
    errorCodes: identityErrors,
    typeDefs,
    resolvers,
    entities,
    migrations: [CreateIdentity1764000000100, SmartCardsSessionsServices1764000000150, AuditAndNotices1764000000160, StatelessChallenges1764000000170, NoticeDeadLetters1764000000180, ProxyAccess1764000000190],
    async verifier({ config, database }) {
      configurePasswordHashing(config.passwordHashing);
      const keys = await loadKeyRing(config);
      const trust = trustStoreFor(config);
      // The files named by SMARTCARD_CA_FILE and SMARTCARD_CRL_FILE must exist and parse before identity starts.
      await trust.check();
      deps = {
        keys,
        clock,
        trust,
        challenges: new ChallengeCodec(challengeKeyFrom(keys.signing.privateKey)),
        sessions: createSessionService(config, database.dataSource, clock),
      };
      return new TokenVerifier({ jwks: { keys: keys.jwks }, cache: config.tokenCache });
    },
    careAccess: ({ database }) => {
      const store = new IdentityStore(database.dataSource);
      return (viewer, ids) => (viewer.role === 'PRACTITIONER' ? store.patientsTreatedBy(viewer.personId, ids) : Promise.resolve(new Set()));
    },
    careTeams: ({ database }) => {
      const store = new IdentityStore(database.dataSource);
      return (viewer) => store.careTeamIdsOf(viewer.personId);
    },
    // Identity's own proxy question, answered from its tables (the others ask /internal/care-access with proxy: true).
    proxyAccess: ({ database }) => localProxyAccess(new IdentityStore(database.dataSource), clock),
    sessions: () => need().sessions,
    createContext: (base, runtime) => createContext(base, need(), runtime.config),
    routes: (runtime) => identityRoutes(runtime, need()),
    // The notice worker (when configured) and the active-sessions metric, for as long as identity runs.
    background: (runtime) => {
      const store = new IdentityStore(runtime.database.dataSource);
      const unregister = registerActiveSessions('identity', () => asBackground(() => store.countActiveSessions(new Date(), SESSION_IDLE_SECONDS)));
      const worker = options.notices ? new NoticeWorker(runtime.database.dataSource, need().keys, options.notices) : undefined;
      worker?.start();
      return {
        stop: async () => {
          unregister();
          await worker?.stop();
        },
      };
    },
  };
}

/**
 * SMARTCARD_CA_FILE with its CRLs and issuer settings, or in development the
 * dev PKI under DATA_DIR/pki (written on first use when missing), whose CRLs
 * and CAC and PIV CAs are the defaults.
 */
export function trustStoreFor(config: PortalConfig): TrustStore {
  const named = (setting: string, list: string[] | undefined, fallback: readonly string[] | 'any'): readonly string[] | 'any' => {
    if (!list) return fallback;
    for (const entry of list) {
      if (!/^[0-9a-f]{64}$/i.test(entry.replace(/:/g, '')) && !validDn(entry)) throw new Error(`${setting}: "${entry}" is neither a SHA-256 fingerprint (hex) nor a DN.`);
    }
    return list;
  };
  const rules = (fallback: Record<CardKind, readonly string[] | 'any'>): CardRules => ({
    issuers: {
      CAC: named('SMARTCARD_CAC_ISSUERS', config.smartcardCacIssuers, fallback.CAC),
      PIV: named('SMARTCARD_PIV_ISSUERS', config.smartcardPivIssuers, fallback.PIV),
    },
    policyOids: { CAC: config.smartcardCacPolicyOids ?? [], PIV: config.smartcardPivPolicyOids ?? [] },
    crlGraceMs: (config.smartcardCrlGraceHours ?? DEFAULT_CRL_GRACE_HOURS) * 3_600_000,
  });
  if (config.smartcardCaFile) {
    if (config.production && !config.smartcardCrlFile) throw new Error('SMARTCARD_CRL_FILE is required in production.');
    // Production names no CA by default: a kind of card with no issuer set does not sign in.
    const fallback = config.production ? [] : 'any';
    return new TrustStore({ caFile: config.smartcardCaFile, crlFile: config.smartcardCrlFile, rules: rules({ CAC: fallback, PIV: fallback }) });
  }
  if (config.production) throw new Error('SMARTCARD_CA_FILE is required in production.');
  return new TrustStore({
    caFile: devCaFile(config.dataDir),
    crlFile: config.smartcardCrlFile ?? devCrlFile(config.dataDir),
    rules: rules({ CAC: [DEV_CAC_CA], PIV: [DEV_PIV_CA] }),
    prepare: async () => void (await ensureDevPki(config.dataDir)),
  });
}

function validDn(dn: string): boolean {
  try {
    return new x509.Name(dn).toJSON().length > 0;
  } catch {
    return false;
  }
}
