import type { SubgraphContext } from '@portal/kit';
import { MessagingStore } from './db/store';
import { createLoaders, type MessagingLoaders } from './loaders';
import { scopeOf, ThreadService } from './services/threads';

export interface MessagingContext extends SubgraphContext {
  loaders: MessagingLoaders;
  threads: ThreadService;
}

export function createContext(base: SubgraphContext): MessagingContext {
  const loaders = createLoaders(new MessagingStore(base.db), scopeOf(base.viewer));
  // One clock per request, so every thread of a response agrees on canReply.
  return { ...base, loaders, threads: new ThreadService(base.access, base.audit, loaders, new Date()) };
}
