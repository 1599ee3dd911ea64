import type { IncomingMessage } from 'node:http';
import { addressKey, clientAddressOf, normalizeAddress, parseTrustedProxies, TrustedProxies } from './clientAddress';

const req = (peer: string, forwardedFor?: string | string[]) =>
  ({ socket: { remoteAddress: peer }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

describe('TRUSTED_PROXIES', () => {
  it('defaults to loopback, and takes IPs, CIDRs, "loopback" and "none"', () => {
    expect(parseTrustedProxies(undefined)).toEqual(['127.0.0.0/8', '::1']);
    expect(parseTrustedProxies('none')).toEqual([]);
    expect(parseTrustedProxies('10.0.0.0/8, 192.168.1.7,2001:db8::/32,loopback')).toEqual(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '127.0.0.0/8', '::1']);
  });

  it('refuses what is not an address or a CIDR', () => {
    for (const bad of ['10.0.0.0/33', 'proxy.internal', '10.0.0.1/8/2', '::1/129', '10.0.0/8']) {
      expect(() => parseTrustedProxies(bad)).toThrow(/TRUSTED_PROXIES/);
    }
  });

  it('matches addresses inside the listed subnets only', () => {
    const trusted = new TrustedProxies(['10.1.0.0/16', '2001:db8::/32', '192.0.2.7']);
    expect(trusted.has('10.1.200.3')).toBe(true);
    expect(trusted.has('10.2.0.1')).toBe(false);
    expect(trusted.has('2001:db8:ffff::1')).toBe(true);
    expect(trusted.has('2001:db9::1')).toBe(false);
    expect(trusted.has('192.0.2.7')).toBe(true);
    expect(trusted.has('192.0.2.8')).toBe(false);
    expect(trusted.has('not-an-ip')).toBe(false);
  });
});

describe('clientAddressOf', () => {
  const trusted = new TrustedProxies(['10.0.0.0/8', '127.0.0.1']);

  it('is the socket peer when the peer is not a trusted proxy, whatever X-Forwarded-For says', () => {
    expect(clientAddressOf(req('203.0.113.9', '198.51.100.1'), trusted)).toBe('203.0.113.9');
    expect(clientAddressOf(req('::ffff:203.0.113.9', '10.0.0.1, 127.0.0.1'), trusted)).toBe('203.0.113.9');
  });

  it('takes the rightmost hop a trusted proxy did not write', () => {
    // The client wrote "6.6.6.6" itself; the load balancer (10.0.0.2) appended the address it saw.
    expect(clientAddressOf(req('10.0.0.2', '6.6.6.6, 203.0.113.9'), trusted)).toBe('203.0.113.9');
    // Two trusted proxies in a row: skip both.
    expect(clientAddressOf(req('127.0.0.1', '6.6.6.6, 203.0.113.9, 10.0.0.2'), trusted)).toBe('203.0.113.9');
    // Headers sent twice are one list.
    expect(clientAddressOf(req('10.0.0.2', ['6.6.6.6', '203.0.113.9']), trusted)).toBe('203.0.113.9');
  });

  it('stops at the first entry that is not an address, and falls back to the last trusted hop', () => {
    expect(clientAddressOf(req('10.0.0.2', '203.0.113.9, garbage'), trusted)).toBe('10.0.0.2');
    expect(clientAddressOf(req('10.0.0.2'), trusted)).toBe('10.0.0.2');
    expect(clientAddressOf(req('10.0.0.2', '10.0.0.3'), trusted)).toBe('10.0.0.3');
  });

  it('believes no X-Forwarded-For when no proxy is trusted', () => {
    expect(clientAddressOf(req('127.0.0.1', '203.0.113.9'), new TrustedProxies([]))).toBe('127.0.0.1');
  });

  it('reads IPv6 peers and hops', () => {
    expect(clientAddressOf(req('::1', '2001:db8::5'), new TrustedProxies(['::1']))).toBe('2001:db8::5');
    expect(normalizeAddress('[2001:DB8::5]')).toBe('2001:db8::5');
  });
});

describe('addressKey', () => {
  it('counts an IPv6 /64 as one client and IPv4 addresses one by one', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('203.0.113.9')).toBe('203.0.113.9');
  });
});
