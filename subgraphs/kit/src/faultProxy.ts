/**
 * A TCP proxy for fault-injection tests: services talk to PostgreSQL, Redis or
 * another service through it, and a test cuts the line (every open connection
 * reset, new ones refused) and restores it, without touching the shared server
 * itself, which other tests use at the same time.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface FaultProxy {
  /** The local port to connect to instead of the target's. */
  port: number;
  /** Resets every open connection; new connections are refused until `restore()` (like a server that stopped). */
  cut(): void;
  /** Holds new and open connections silent: bytes are neither passed on nor answered (like a hung server). */
  hang(): void;
  /** Passes traffic again. */
  restore(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: { host: string; port: number }, listenPort = 0): Promise<FaultProxy> {
  let state: 'open' | 'cut' | 'hung' = 'open';
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  const server = net.createServer((client) => {
    if (state === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (chunk) => {
      if (state === 'open') upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (state === 'open') client.write(chunk);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      state = 'cut';
      for (const { client, upstream } of pairs) {
        client.resetAndDestroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    hang() {
      state = 'hung';
    },
    restore() {
      state = 'open';
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const { client, upstream } of pairs) {
          client.destroy();
          upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
