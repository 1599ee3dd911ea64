import { decodeCursor, encodeCursor, parsePage, toConnection } from './pagination';

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

  it('round-trips a cursor', () => {
    expect(decodeCursor(encodeCursor('2026-01-01T00:00:00.000Z', 'id-1'))).toEqual({ sort: '2026-01-01T00:00:00.000Z', id: 'id-1' });
  });
});

describe('toConnection', () => {
  const rows = [3, 2, 1].map((n) => ({ id: `r${n}`, at: `2026-01-0${n}` }));
  it('uses the extra row only to say there is a next page', () => {
    const c = toConnection(rows, { limit: 2, after: null }, 3, (r) => ({ sort: r.at, id: r.id }), (r) => r.id);
    expect(c.edges.map((e) => e.node)).toEqual(['r3', 'r2']);
    expect(c.pageInfo).toEqual({ hasNextPage: true, endCursor: c.edges[1].cursor });
    expect(decodeCursor(c.pageInfo.endCursor!)).toEqual({ sort: '2026-01-02', id: 'r2' });
    expect(c.totalCount).toBe(3);
  });
  it('has no end cursor for an empty page', () => {
    expect(toConnection([], { limit: 2, after: null }, 0, () => ({ sort: '', id: '' }), (r) => r).pageInfo).toEqual({ hasNextPage: false, endCursor: null });
  });
});
