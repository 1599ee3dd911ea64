import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** Trusted by default: a process on the same host (the gateway of `npm start`, a local reverse proxy). */
export const LOOPBACK_PROXIES = ['127.0.0.0/8', '::1'];

/**
 * `TRUSTED_PROXIES`: comma-separated IPs and CIDRs, `loopback` for the default
 * or `none` to believe no `X-Forwarded-For` at all.
 */
export function parseTrustedProxies(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [...LOOPBACK_PROXIES];
  const entries = value.split(',').map((e) => e.trim()).filter(Boolean);
  if (entries.length === 1 && entries[0] === 'none') return [];
  const out: string[] = [];
  for (const entry of entries) {
    if (entry === 'loopback') out.push(...LOOPBACK_PROXIES);
    else if (parseEntry(entry)) out.push(entry);
    else throw new Error(`TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR (e.g. 10.0.0.0/8, 2001:db8::/32), "loopback" or "none".`);
  }
  return out;
}

function parseEntry(entry: string): { address: string; prefix?: number; family: 'ipv4' | 'ipv6' } | null {
  const [address, bits, extra] = entry.split('/');
  const version = isIP(address);
  if (!version || extra !== undefined) return null;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (bits === undefined) return { address, family };
  const prefix = Number(bits);
  if (!/^\d{1,3}$/.test(bits) || prefix > (version === 4 ? 32 : 128)) return null;
  return { address, prefix, family };
}

/** The proxies whose `X-Forwarded-For` is believed. */
export class TrustedProxies {
  private readonly list = new BlockList();

  constructor(readonly entries: readonly string[] = LOOPBACK_PROXIES) {
    for (const entry of entries) {
      const parsed = parseEntry(entry);
      if (!parsed) throw new Error(`not an IP address or CIDR: ${entry}`);
      if (parsed.prefix === undefined) this.list.addAddress(parsed.address, parsed.family);
      else this.list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
  }

  /** Answers by address, remembered: BlockList builds a SocketAddress on every check, and the callers are few (the gateway, the proxies). */
  private readonly known = new Map<string, boolean>();

  has(address: string): boolean {
    let trusted = this.known.get(address);
    if (trusted === undefined) {
      const version = isIP(address);
      trusted = version !== 0 && this.list.check(address, version === 4 ? 'ipv4' : 'ipv6');
      if (this.known.size >= 1_000) this.known.clear();
      this.known.set(address, trusted);
    }
    return trusted;
  }
}

/** An IPv4 address as such even when the socket reports it IPv4-mapped (`::ffff:10.0.0.1`). */
export function normalizeAddress(raw: string): string {
  const address = raw.trim().replace(/^\[(.*)\]$/, '$1');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? mapped[1] : address.toLowerCase();
}

/**
 * The client's address: the socket's peer, unless that peer is a trusted
 * proxy, in which case `X-Forwarded-For` is read from its right end (each
 * proxy appends the address it was called from) up to the first hop that is
 * not trusted. Whatever a client wrote further left is never believed.
 */
export function clientAddressOf(req: Pick<IncomingMessage, 'headers' | 'socket'>, trusted: TrustedProxies): string {
  let current = normalizeAddress(req.socket.remoteAddress ?? '');
  if (!trusted.has(current)) return current || 'unknown';
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((h) => h.trim()).filter(Boolean);
  while (trusted.has(current) && hops.length > 0) {
    const next = normalizeAddress(hops.pop()!);
    // A trusted proxy never writes anything but an address: stop at the first thing that is not one.
    if (!isIP(next)) break;
    current = next;
  }
  return current;
}

/**
 * The key an address is counted under: an IPv6 client usually holds a whole
 * /64, so its addresses count as one.
 */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head, tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
