import DataLoader from 'dataloader';

/** A per-request loader of one row per id; results are aligned with the ids, missing ones are null. */
export function rowLoader<V>(fetch: (ids: readonly string[]) => Promise<V[]>, keyOf: (row: V) => string): DataLoader<string, V | null> {
  return new DataLoader<string, V | null>(async (ids) => {
    const rows = await fetch(ids);
    const byKey = new Map<string, V>();
    for (const row of rows) byKey.set(keyOf(row), row);
    return ids.map((k) => byKey.get(k) ?? null);
  });
}

/** A per-request loader of many rows per id (a list under a list), each list in the order fetched. */
export function groupLoader<V>(fetch: (ids: readonly string[]) => Promise<V[]>, keyOf: (row: V) => string): DataLoader<string, V[]> {
  return new DataLoader<string, V[]>(async (ids) => {
    const rows = await fetch(ids);
    const byKey = new Map<string, V[]>();
    for (const row of rows) {
      const k = keyOf(row);
      const list = byKey.get(k);
      if (list) list.push(row);
      else byKey.set(k, [row]);
    }
    return ids.map((k) => byKey.get(k) ?? []);
  });
}
