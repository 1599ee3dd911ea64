import DataLoader from 'dataloader';
import { groupLoader, rowLoader, type Page } from '@portal/kit';
import type { ThreadRow } from './db/entities';
import type { Folder, MessagingStore, ReaderScope, ThreadOwner } from './db/store';

interface ListKey {
  ownerId: string;
  folder: Folder | null;
  /** Only these patients' threads; null for any. */
  patientIds: readonly string[] | null;
}

interface PageKey extends ListKey {
  page: Page;
}

// Keys are batched by folder and page, not by their patients: one statement reads every
// owner's list with the union of the patients allowed (each owner's rows are its own, so
// an owner sees only patients its key allows as long as the caller's allowance does not
// depend on the owner; the caller still decides each thread it hands out).
const listSpec = (k: ListKey) => JSON.stringify([k.folder, k.patientIds === null]);
const pageSpec = (k: PageKey) => JSON.stringify([listSpec(k), k.page.limit, k.page.after?.sort ?? null, k.page.after?.id ?? null]);
const pageKey = (k: PageKey) => JSON.stringify([k.ownerId, k.folder, k.patientIds, k.page.limit, k.page.after?.sort ?? null, k.page.after?.id ?? null]);
const listKey = (k: ListKey) => JSON.stringify([k.ownerId, k.folder, k.patientIds]);
/** The patients a batch may read: null for any, else every key's allowed patients. */
const patientsOf = (group: ListKey[]) => (group[0].patientIds === null ? null : [...new Set(group.flatMap((k) => k.patientIds ?? []))].sort());

/** Groups keys that share a shape, so each shape is one statement whatever the owners. */
function byShape<K extends ListKey>(keys: readonly K[], shape: (k: K) => string): K[][] {
  const groups = new Map<string, K[]>();
  for (const k of keys) groups.set(shape(k), [...(groups.get(shape(k)) ?? []), k]);
  return [...groups.values()];
}

const owners = (group: ListKey[]) => [...new Set(group.map((k) => k.ownerId))];

/**
 * Pages of threads for many owners at once: keys asking for the same list,
 * page size and cursor share one statement, whatever the owners.
 */
function threadPageLoader(store: MessagingStore, owner: ThreadOwner, scopeOf: () => Promise<ReaderScope>, hidden: HiddenOf) {
  return new DataLoader<PageKey, ThreadRow[], string>(
    async (keys) => {
      const found = new Map<string, ThreadRow[]>();
      const scope = await scopeOf();
      for (const group of byShape(keys, pageSpec)) {
        const { folder, page } = group[0];
        const sensitiveHidden = owner === 'patient' ? await hidden(owners(group)) : [];
        const pages = await store.threadPages(owner, owners(group), scope, { folder, patientIds: patientsOf(group), sensitiveHidden }, page);
        for (const k of group) found.set(pageKey(k), pages.get(k.ownerId) ?? []);
      }
      return keys.map((k) => found.get(pageKey(k))!);
    },
    { cacheKeyFn: pageKey },
  );
}

/** The totals of the same lists, asked for only by a query that selects totalCount. */
function threadCountLoader(store: MessagingStore, owner: ThreadOwner, scopeOf: () => Promise<ReaderScope>, hidden: HiddenOf) {
  return new DataLoader<ListKey, number, string>(
    async (keys) => {
      const found = new Map<string, number>();
      const scope = await scopeOf();
      for (const group of byShape(keys, listSpec)) {
        const { folder } = group[0];
        const sensitiveHidden = owner === 'patient' ? await hidden(owners(group)) : [];
        const totals = await store.threadCounts(owner, owners(group), scope, { folder, patientIds: patientsOf(group), sensitiveHidden });
        for (const k of group) found.set(listKey(k), totals.get(k.ownerId) ?? 0);
      }
      return keys.map((k) => found.get(listKey(k))!);
    },
    { cacheKeyFn: listKey },
  );
}

/** Of these patients, those whose sensitive threads the viewer may not see (a proxy whose grant hides them). */
type HiddenOf = (patientIds: readonly string[]) => Promise<string[]>;

/**
 * Built once per request for one viewer: a loader's cache must never outlive its viewer.
 * `hidesSensitive` is the request's `Access.hidesSensitive` (batched, asked of identity).
 */
export function createLoaders(store: MessagingStore, scope: () => Promise<ReaderScope>, hidesSensitive: (patientId: string) => Promise<boolean> = async () => false) {
  const hidden: HiddenOf = async (ids) => {
    const hides = await Promise.all(ids.map(hidesSensitive));
    return ids.filter((_, i) => hides[i]);
  };
  const teamScope = async (): Promise<ReaderScope> => ({ readerId: (await scope()).readerId, teamIds: null });
  const loaders = {
    thread: rowLoader((ids) => store.threadsByIds(ids), (t) => t.id),
    messages: groupLoader((ids) => store.messagesOf(ids), (m) => m.threadId),
    unreadInThread: rowLoader(async (ids) => store.unreadByThread((await scope()).readerId, ids), (r) => r.threadId),
    unreadOfPatient: rowLoader(async (ids) => store.unreadByPatient(await scope(), ids, await hidden(ids)), (r) => r.patientId),
    /** The reader's own draft in each thread. */
    draftInThread: rowLoader(async (ids) => store.draftsOf((await scope()).readerId, ids), (d) => d.threadId ?? ''),
    patientThreads: threadPageLoader(store, 'patient', scope, hidden),
    patientThreadCount: threadCountLoader(store, 'patient', scope, hidden),
    // A team's inbox is every thread of the team (of the patients the caller allows); the team itself was authorised by the caller.
    careTeamThreads: threadPageLoader(store, 'careTeam', teamScope, hidden),
    careTeamThreadCount: threadCountLoader(store, 'careTeam', teamScope, hidden),
    /** The patients each care team has sent threads with. */
    careTeamPatients: groupLoader((ids) => store.teamPatients(ids), (r) => r.careTeamId),
  };
  return {
    ...loaders,
    /** Drops what a change of this thread made stale, so later fields of the same request read it afresh. */
    forget(threadId: string): void {
      for (const l of [loaders.thread, loaders.messages, loaders.unreadInThread, loaders.draftInThread]) l.clear(threadId);
      for (const l of [loaders.unreadOfPatient, loaders.patientThreads, loaders.patientThreadCount, loaders.careTeamThreads, loaders.careTeamThreadCount, loaders.careTeamPatients]) l.clearAll();
    },
  };
}

export type MessagingLoaders = ReturnType<typeof createLoaders>;
