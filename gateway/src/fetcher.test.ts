import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { plainHeaders, SubgraphClient } from './fetcher';
import { isOutage, SubgraphOutage } from './resilience';

/** A loopback server whose handler each test sets; closed after every test, also when one fails. */
let server: http.Server;
let handler: http.RequestListener = () => undefined;
let url: string;
const open: SubgraphClient[] = [];
const client = (timeoutMs = 2_000) => {
  const c = new SubgraphClient(url, { timeoutMs });
  open.push(c);
  return c;
};

beforeAll(async () => {
  server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('SubgraphClient', () => {
  it('POSTs the body and headers as given and reads status, headers and the whole answer', async () => {
    let seen: { method?: string; url?: string; auth?: string; body: string } = { body: '' };
    handler = (req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen = { method: req.method, url: req.url, auth: req.headers.authorization, body };
        res.writeHead(200, { 'content-type': 'application/json', 'x-two': ['a', 'b'] });
        res.end('{"data":{"ok":true}}');
      });
    };
    const c = client();
    const res = await c.fetcher(url, { headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: '{"query":"{ ok }"}' });
    expect(seen).toEqual({ method: 'POST', url: '/graphql', auth: 'Bearer t', body: '{"query":"{ ok }"}' });
    expect([res.ok, res.status, res.statusText, res.url]).toEqual([true, 200, 'OK', '']);
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(res.headers.get('x-two')).toBe('a, b');
    expect(res.headers.get('missing')).toBeNull();
    expect(await res.clone().json()).toEqual({ data: { ok: true } });
    expect(await res.text()).toBe('{"data":{"ok":true}}');
  });

  it('keeps sockets alive between requests instead of opening one per request', async () => {
    const sockets = new Set<unknown>();
    handler = (req, res) => {
      sockets.add(req.socket);
      req.resume();
      req.on('end', () => res.end('{"data":{}}'));
    };
    const c = client();
    for (let i = 0; i < 6; i++) await c.post({}, '{}');
    // One request after another: the pool may open a second socket while the first is being released, never one each.
    expect(sockets.size).toBeLessThanOrEqual(2);
  });

  it('passes a non-2xx answer on as a response, not an outage', async () => {
    handler = (req, res) => {
      req.resume();
      res.writeHead(503, { 'retry-after': '7', 'content-type': 'application/json' });
      res.end('{"errors":[{"message":"Busy.","extensions":{"code":"SERVICE_UNAVAILABLE"}}]}');
    };
    const res = await client().post({}, '{}');
    expect([res.ok, res.status, res.headers.get('retry-after')]).toEqual([false, 503, '7']);
  });

  it('makes a subgraph that does not answer within the timeout an outage that names no address', async () => {
    handler = (req) => req.resume(); // never answers
    const failure = await client(150)
      .post({}, '{}')
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SubgraphOutage);
    expect(isOutage(failure)).toBe(true);
    expect((failure as Error).message).toBe('no answer within 150 ms');
  });

  it('bounds the whole answer, not only its headers: a body that stalls is an outage too', async () => {
    handler = (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"data":'); // and nothing more
    };
    const failure = await client(150)
      .post({}, '{}')
      .catch((e: unknown) => e);
    expect((failure as Error).message).toBe('no answer within 150 ms');
  });

  it('makes a refused connection and an answer cut mid-body outages with the socket code only', async () => {
    const nowhere = new SubgraphClient('http://127.0.0.1:1/graphql', { timeoutMs: 2_000 });
    open.push(nowhere);
    const refused = await nowhere.post({}, '{}').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SubgraphOutage);
    expect((refused as Error).message).toBe('no answer (ECONNREFUSED)');

    handler = (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"data":');
      setTimeout(() => res.socket?.destroy(), 10);
    };
    const cut = await client()
      .post({}, '{}')
      .catch((e: unknown) => e);
    expect(cut).toBeInstanceOf(SubgraphOutage);
    expect((cut as Error).message).toMatch(/^no answer \([A-Z_]+\)$/);
    expect((cut as Error).message).not.toMatch(/127\.0\.0\.1|http/);
  });
});

describe('plainHeaders', () => {
  // The Headers class Apollo's RemoteGraphQLDataSource builds each fetch's headers with.
  const { Headers } = require(require.resolve('node-fetch', { paths: [require.resolve('@apollo/gateway')] })) as { Headers: new () => Iterable<[string, string]> & { set(n: string, v: string): void; append(n: string, v: string): void } };

  it("reads Apollo's node-fetch Headers as its own iterator does: lower-case names, repeated values joined", () => {
    const headers = new Headers();
    headers.set('Content-Type', 'application/json');
    headers.set('authorization', 'Bearer t');
    headers.append('X-Forwarded-For', '10.0.0.1');
    headers.append('x-forwarded-for', '10.0.0.2');
    expect(plainHeaders(headers)).toEqual(Object.fromEntries(headers));
    expect(plainHeaders(headers)).toEqual({ 'content-type': 'application/json', authorization: 'Bearer t', 'x-forwarded-for': '10.0.0.1, 10.0.0.2' });
  });

  it('takes any other iterable of pairs as it is', () => {
    expect(plainHeaders(new Map([['a', '1']]))).toEqual({ a: '1' });
  });
});
