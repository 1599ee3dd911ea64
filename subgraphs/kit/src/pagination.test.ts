import { decodeCursor, encodeCursor, keysetAfter, lazyCount, parsePage, toConnection } from './pagination';

describe('parsePage', () => {
  it('defaults and accepts 0..100', () => {
    expect(parsePage({}, 5)).toEqual({ limit: 5, after: null });
    expect(parsePage({ first: 0 }).limit).toBe(0);
    expect(parsePage({ first: 100 }).limit).toBe(100);
  });

  it.each([-1, 101, 1.5])('refuses first = %p with BAD_USER_INPUT', (first) => {
    expect(() => parsePage({ first })).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'first' } }));
  });

  it('refuses a cursor it did not give out', () => {
    expect(() => parsePage({ after: 'not-a-cursor' })).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } }));
    expect(() => parsePage({ after: Buffer.from('[1,2]').toString('base64url') })).toThrow(/cursor/);
  });

  it.each([
    ['an id with NUL', encodeCursor('2026-01-01T00:00:00.000Z', 'id\u0000')],
    ['an id with a quote', encodeCursor('2026-01-01T00:00:00.000Z', "id'--")],
    ['a too long id', encodeCursor('2026-01-01T00:00:00.000Z', 'x'.repeat(65))],
    ['a sort value with NUL', encodeCursor('2026\u0000', 'id-1')],
    ['an empty sort value', encodeCursor('', 'id-1')],
    ['too long a cursor', 'A'.repeat(301)],
  ])('refuses a cursor with %s, keeping the code and field of any foreign cursor', (_, after) => {
    expect(() => parsePage({ after })).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } }));
  });

  it('round-trips a cursor', () => {
    expect(decodeCursor(encodeCursor('2026-01-01T00:00:00.000Z', 'id-1'))).toEqual({ sort: '2026-01-01T00:00:00.000Z', id: 'id-1' });
  });
});

describe('toConnection', () => {
  const rows = [3, 2, 1].map((n) => ({ id: `r${n}`, at: `2026-01-0${n}` }));
  it('uses the extra row only to say there is a next page', () => {
    const c = toConnection(rows, { limit: 2, after: null }, async () => 3, (r) => ({ sort: r.at, id: r.id }), (r) => r.id);
    expect(c.edges.map((e) => e.node)).toEqual(['r3', 'r2']);
    expect(c.pageInfo).toEqual({ hasNextPage: true, endCursor: c.edges[1].cursor });
    expect(decodeCursor(c.pageInfo.endCursor!)).toEqual({ sort: '2026-01-02', id: 'r2' });
    return expect(c.totalCount()).resolves.toBe(3);
  });
  it('counts only when totalCount is asked for, and then once', async () => {
    let counted = 0;
    const c = toConnection(rows, { limit: 2, after: null }, async () => ++counted, (r) => ({ sort: r.at, id: r.id }), (r) => r.id);
    expect(counted).toBe(0);
    expect(await Promise.all([c.totalCount(), c.totalCount()])).toEqual([1, 1]);
    expect(counted).toBe(1);
    const once = lazyCount(async () => ++counted);
    expect([await once(), await once()]).toEqual([2, 2]);
  });
  it('has no end cursor for an empty page', () => {
    expect(toConnection([], { limit: 2, after: null }, async () => 0, () => ({ sort: '', id: '' }), (r) => r).pageInfo).toEqual({ hasNextPage: false, endCursor: null });
  });
});

describe('keysetAfter', () => {
  it('is null on a first page, and binds the cursor values (never splices them) after it', () => {
    expect(keysetAfter({ limit: 5, after: null }, 't.at', 't.id', () => '?')).toBeNull();
    const bound: string[] = [];
    const bind = (v: string) => (bound.push(v), `$${bound.length}`);
    expect(keysetAfter({ limit: 5, after: { sort: '2026-01-01', id: 'r1' } }, 't.at', 't.id', bind)).toBe('(t.at < $1 OR (t.at = $1 AND t.id < $2))');
    expect(bound).toEqual(['2026-01-01', 'r1']);
  });
});
