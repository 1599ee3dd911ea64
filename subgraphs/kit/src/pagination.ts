/**
 * The one way the portal pages a list: newest first by a sort value (a
 * timestamp) and then by id, continuing strictly after an opaque keyset
 * cursor, `first` bounded to 0..100, and `totalCount` counted only when a
 * client asks for it.
 *
 * What is counted: every row of the list as the same filter reads it
 * (owner, visibility, folder, who may see it), across all pages: never the
 * cursor. A subgraph keeps its page's WHERE and its COUNT's WHERE one
 * expression so the two cannot drift apart.
 */
import { badInput } from './errors';
import { parseId } from './inputs';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** A position in a newest-first list: its sort value and its id (the tie-breaker). */
export interface Keyset {
  sort: string;
  id: string;
}

export interface Page {
  limit: number;
  /** The keyset position to continue after: rows strictly "older" than this. */
  after: Keyset | null;
}

export interface Connection<T> {
  /** Counted when first called (GraphQL calls it only for a query asking for `totalCount`), at most once. */
  totalCount: () => Promise<number>;
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export const MAX_PAGE_SIZE = 100;
/** A cursor this code gives out is well under this; longer text is refused before it is decoded. */
const MAX_CURSOR_LENGTH = 300;
// A sort value is a timestamp or a date: printable ASCII, no NUL, bounded.
const SORT_VALUE = /^[\x20-\x7e]{1,64}$/;

/** Validates `first`/`after`; a page size out of 0..100 or a foreign cursor is BAD_USER_INPUT. */
export function parsePage(args: PageArgs, defaultSize = 10): Page {
  const first = args.first ?? defaultSize;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 0 and ${MAX_PAGE_SIZE}.`, 'first');
  }
  return { limit: first, after: args.after ? decodeCursor(args.after) : null };
}

export function encodeCursor(sort: string, id: string): string {
  return Buffer.from(JSON.stringify([sort, id]), 'utf8').toString('base64url');
}

/** The keyset in a cursor this code gave out; anything else (forged, too long, a bad id) is BAD_USER_INPUT on `after`. */
export function decodeCursor(cursor: string): Keyset {
  const refused = () => badInput('after is not a cursor this list gave out.', 'after');
  if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR_LENGTH) throw refused();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refused();
  }
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => typeof v === 'string') || !SORT_VALUE.test(value[0])) throw refused();
  try {
    parseId(value[1], 'after');
  } catch {
    throw refused();
  }
  return { sort: value[0], id: value[1] };
}

/** Runs `count` once, on the first call, and hands every caller that answer. */
export function lazyCount(count: () => Promise<number>): () => Promise<number> {
  let counted: Promise<number> | null = null;
  return () => (counted ??= count());
}

/**
 * The SQL condition for the rows after the page's cursor in a list ordered
 * `sortColumn DESC, idColumn DESC`, binding its values with `bind` (which
 * returns the placeholder); `null` on a first page.
 */
export function keysetAfter(page: Page, sortColumn: string, idColumn: string, bind: (value: string) => string): string | null {
  if (!page.after) return null;
  const sort = bind(page.after.sort);
  const id = bind(page.after.id);
  return `(${sortColumn} < ${sort} OR (${sortColumn} = ${sort} AND ${idColumn} < ${id}))`;
}

/**
 * Builds a connection from rows fetched with `limit + 1` (the extra row only
 * says whether there is a next page); `count` runs only if `totalCount` is asked for.
 */
export function toConnection<R, T>(
  rows: R[],
  page: Page,
  count: () => Promise<number>,
  cursorOf: (row: R) => Keyset,
  map: (row: R) => T,
): Connection<T> {
  const slice = rows.slice(0, page.limit);
  const edges = slice.map((row) => {
    const c = cursorOf(row);
    return { cursor: encodeCursor(c.sort, c.id), node: map(row) };
  });
  return {
    totalCount: lazyCount(count),
    edges,
    pageInfo: { hasNextPage: rows.length > page.limit, endCursor: edges.length ? edges[edges.length - 1].cursor : null },
  };
}

/** The same connection with its nodes mapped (e.g. storage rows to what the schema promises). */
export function mapConnection<A, B>(c: Connection<A>, map: (node: A) => B): Connection<B> {
  return { totalCount: c.totalCount, pageInfo: c.pageInfo, edges: c.edges.map((e) => ({ cursor: e.cursor, node: map(e.node) })) };
}
