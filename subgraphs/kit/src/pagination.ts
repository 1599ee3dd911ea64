import { badInput } from './errors';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface Page {
  limit: number;
  /** The keyset position to continue after: rows strictly "older" than this. */
  after: { sort: string; id: string } | null;
}

export interface Connection<T> {
  totalCount: number;
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export const MAX_PAGE_SIZE = 100;

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

export function decodeCursor(cursor: string): { sort: string; id: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) {
      return { sort: value[0], id: value[1] };
    }
  } catch {
    // fall through
  }
  throw badInput('after is not a cursor this list gave out.', 'after');
}

/**
 * Builds a connection from rows fetched with `limit + 1` (the extra row only
 * says whether there is a next page).
 */
export function toConnection<R, T>(
  rows: R[],
  page: Page,
  totalCount: number,
  cursorOf: (row: R) => { sort: string; id: string },
  map: (row: R) => T,
): Connection<T> {
  const slice = rows.slice(0, page.limit);
  const edges = slice.map((row) => {
    const c = cursorOf(row);
    return { cursor: encodeCursor(c.sort, c.id), node: map(row) };
  });
  return {
    totalCount,
    edges,
    pageInfo: { hasNextPage: rows.length > page.limit, endCursor: edges.length ? edges[edges.length - 1].cursor : null },
  };
}
