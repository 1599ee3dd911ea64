import type { SubgraphContext } from '@portal/kit';
import { MessagingStore, type ReaderScope } from './db/store';
import { createLoaders, type MessagingLoaders } from './loaders';
import { DraftService } from './services/drafts';
import { scopeOf, ThreadService } from './services/threads';
import { MessageWriter } from './services/writes';

export interface MessagingContext extends SubgraphContext {
  loaders: MessagingLoaders;
  threads: ThreadService;
  writer: MessageWriter;
  drafts: DraftService;
}

export function createContext(base: SubgraphContext): MessagingContext {
  const store = new MessagingStore(base.db, base.audit);
  // Asked once, when a loader first needs it: a practitioner's teams come from identity.
  let scope: Promise<ReaderScope> | undefined;
  const loaders = createLoaders(store, () => (scope ??= scopeOf(base.access)), (patientId) => base.access.hidesSensitive(patientId));
  const writer = new MessageWriter(base.access, base.db, store, loaders);
  return {
    ...base,
    loaders,
    // One clock per request, so every thread of a response agrees on canReply.
    threads: new ThreadService(base.access, loaders, new Date()),
    writer,
    drafts: new DraftService(base.access, base.db, store, loaders, writer),
  };
}
