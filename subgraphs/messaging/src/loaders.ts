import DataLoader from 'dataloader';
import { groupLoader, rowLoader, type Page } from '@portal/kit';
import type { Folder, MessagingStore, ReaderScope, ThreadOwner, ThreadPage } from './db/store';

interface PageKey {
  ownerId: string;
  folder: Folder | null;
  page: Page;
}

const pageSpec = (k: PageKey) => JSON.stringify([k.folder, k.page.limit, k.page.after?.sort ?? null, k.page.after?.id ?? null]);
const pageKey = (k: PageKey) => JSON.stringify([k.ownerId, pageSpec(k)]);

/**
 * Pages of threads for many owners at once: keys asking for the same folder,
 * page size and cursor share one batch (two statements), whatever the owners.
 */
function threadPageLoader(store: MessagingStore, owner: ThreadOwner, scopeOf: () => Promise<ReaderScope>) {
  return new DataLoader<PageKey, ThreadPage, string>(
    async (keys) => {
      const bySpec = new Map<string, PageKey[]>();
      for (const k of keys) bySpec.set(pageSpec(k), [...(bySpec.get(pageSpec(k)) ?? []), k]);
      const found = new Map<string, ThreadPage>();
      const scope = await scopeOf();
      for (const group of bySpec.values()) {
        const { folder, page } = group[0];
        const pages = await store.threadPages(owner, [...new Set(group.map((k) => k.ownerId))], scope, folder, page);
        for (const k of group) found.set(pageKey(k), pages.get(k.ownerId) ?? { rows: [], totalCount: 0 });
      }
      return keys.map((k) => found.get(pageKey(k))!);
    },
    { cacheKeyFn: pageKey },
  );
}

/** Built once per request for one viewer: a loader's cache must never outlive its viewer. */
export function createLoaders(store: MessagingStore, scope: () => Promise<ReaderScope>) {
  const loaders = {
    thread: rowLoader((ids) => store.threadsByIds(ids), (t) => t.id),
    messages: groupLoader((ids) => store.messagesOf(ids), (m) => m.threadId),
    unreadInThread: rowLoader(async (ids) => store.unreadByThread((await scope()).readerId, ids), (r) => r.threadId),
    unreadOfPatient: rowLoader(async (ids) => store.unreadByPatient(await scope(), ids), (r) => r.patientId),
    /** The reader's own draft in each thread. */
    draftInThread: rowLoader(async (ids) => store.draftsOf((await scope()).readerId, ids), (d) => d.threadId ?? ''),
    patientThreads: threadPageLoader(store, 'patient', scope),
    // A team's inbox is every thread of the team; the team itself was authorised by the caller.
    careTeamThreads: threadPageLoader(store, 'careTeam', async () => ({ readerId: (await scope()).readerId, teamIds: null })),
  };
  return {
    ...loaders,
    /** Drops what a change of this thread made stale, so later fields of the same request read it afresh. */
    forget(threadId: string): void {
      for (const l of [loaders.thread, loaders.messages, loaders.unreadInThread, loaders.draftInThread]) l.clear(threadId);
      for (const l of [loaders.unreadOfPatient, loaders.patientThreads, loaders.careTeamThreads]) l.clearAll();
    },
  };
}

export type MessagingLoaders = ReturnType<typeof createLoaders>;
