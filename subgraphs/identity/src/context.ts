import type { SigningKey, SubgraphContext } from '@portal/kit';
import { IdentityStore } from './db/store';
import { createLoaders, type IdentityLoaders } from './loaders';
import { PeopleService } from './services/people';
import { SignInService } from './services/signIn';

export interface IdentityContext extends SubgraphContext {
  store: IdentityStore;
  loaders: IdentityLoaders;
  people: PeopleService;
  signIn: SignInService;
}

export function createContext(base: SubgraphContext, key: SigningKey): IdentityContext {
  const store = new IdentityStore(base.db);
  const loaders = createLoaders(store);
  return {
    ...base,
    store,
    loaders,
    people: new PeopleService(base.access, loaders),
    signIn: new SignInService(store, key),
  };
}
