import { canReply } from './rules';

const now = new Date('2026-03-01T12:00:00.000Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000).toISOString();

describe('canReply', () => {
  it('takes replies while the newest message is at most 45 days old', () => {
    expect(canReply({ source: 'MHS_GENESIS', lastMessageAt: daysAgo(2) }, now)).toBe(true);
    expect(canReply({ source: 'MHS_GENESIS', lastMessageAt: daysAgo(45) }, now)).toBe(true);
  });

  it('closes the thread once the newest message is more than 45 days old', () => {
    expect(canReply({ source: 'MHS_GENESIS', lastMessageAt: new Date(Date.parse(daysAgo(45)) - 1).toISOString() }, now)).toBe(false);
    expect(canReply({ source: 'MHS_GENESIS', lastMessageAt: daysAgo(60) }, now)).toBe(false);
  });

  it('never takes replies in a legacy TRICARE Online thread, however recent', () => {
    expect(canReply({ source: 'TRICARE_ONLINE', lastMessageAt: daysAgo(1) }, now)).toBe(false);
  });

  it('never takes replies in an unsent draft thread: the draft is sent instead', () => {
    expect(canReply({ source: 'MHS_GENESIS', lastMessageAt: daysAgo(0), state: 'DRAFT' }, now)).toBe(false);
    expect(canReply({ source: 'MHS_GENESIS', lastMessageAt: daysAgo(0), state: 'OPEN' }, now)).toBe(true);
  });
});
