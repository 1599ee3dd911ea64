import { DEFAULT_IDENTITY_TIMEOUT_MS, type PortalConfig, type SubgraphContext } from '@portal/kit';
import { IdentityStore } from './db/store';
import type { KeyRing } from './keys';
import { createLoaders, type IdentityLoaders } from './loaders';
import { AccessLogService } from './services/accessLog';
import { AccountService } from './services/accounts';
import { SecurityAudit } from './services/audit';
import { PeopleService } from './services/people';
import { ProxyService } from './services/proxies';
import type { SessionService } from './services/sessions';
import { SignInService } from './services/signIn';
import { SmartCardService } from './services/smartCards';
import { Throttle } from './services/throttle';
import type { ChallengeCodec } from './smartcard/challenge';
import type { TrustStore } from './smartcard/trust';

/** What identity holds for its whole life: keys, sessions, trusted CAs and the clock. */
export interface IdentityDeps {
  keys: KeyRing;
  sessions: SessionService;
  trust: TrustStore;
  challenges: ChallengeCodec;
  clock: () => Date;
}

export interface IdentityContext extends SubgraphContext {
  store: IdentityStore;
  loaders: IdentityLoaders;
  people: PeopleService;
  signIn: SignInService;
  smartCards: SmartCardService;
  accounts: AccountService;
  proxies: ProxyService;
  accessLog: AccessLogService;
}

/**
 * `config` is read at each access-log request: the stack tells identity the
 * other subgraphs' addresses after it started them.
 */
export function createContext(base: SubgraphContext, deps: IdentityDeps, config?: PortalConfig): IdentityContext {
  const store = new IdentityStore(base.db);
  const loaders = createLoaders(store);
  const throttle = new Throttle(store, deps.clock);
  const audit = new SecurityAudit(store, base, deps.clock);
  const signIn = new SignInService(store, deps.keys, deps.sessions, throttle, audit, deps.clock);
  return {
    ...base,
    store,
    loaders,
    people: new PeopleService(base.access, loaders),
    signIn,
    smartCards: new SmartCardService(store, deps.trust, deps.challenges, signIn, throttle, audit, deps.clock),
    accounts: new AccountService(store, base.access, deps.sessions, throttle, audit, deps.clock),
    proxies: new ProxyService(store, base.access, loaders, audit, deps.clock),
    accessLog: new AccessLogService(base.access, loaders, base.db, {
      remote: () => ({
        scheduling: config?.auditSourceUrls?.scheduling,
        messaging: config?.auditSourceUrls?.messaging,
        pharmacy: config?.pharmacyUrl,
        'clinical-records': config?.auditSourceUrls?.['clinical-records'],
      }),
      timeoutMs: config?.identityTimeoutMs ?? DEFAULT_IDENTITY_TIMEOUT_MS,
    }),
  };
}
