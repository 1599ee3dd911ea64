import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';

export type RouteHandler = (req: IncomingMessage, body: Buffer, requestId: string) => Promise<{ status: number; body: unknown; headers?: Record<string, string> }>;

export interface HttpOptions<C extends BaseContext> {
  apollo: ApolloServer<C>;
  context: (req: IncomingMessage, requestId: string) => Promise<C>;
  /** Extra routes by "METHOD /path". */
  routes?: Record<string, RouteHandler>;
  /** Readiness probe for /health. */
  ready: () => Promise<boolean>;
  maxBodyBytes?: number;
  /** The request id of each request, sent back as `x-request-id`; a new UUID unless told otherwise. */
  requestId?: (req: IncomingMessage) => string;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', ...headers });
  res.end(text);
}

/**
 * A small HTTP front for Apollo Server using its documented integration API
 * (`executeHTTPGraphQLRequest`), so /health, the JWKS and internal routes can
 * sit beside /graphql without pulling in a web framework.
 */
export async function listen<C extends BaseContext>(options: HttpOptions<C>, port: number, host = '127.0.0.1'): Promise<RunningServer> {
  const limit = options.maxBodyBytes ?? 1_000_000;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const requestId = options.requestId ? options.requestId(req) : randomUUID();
    res.setHeader('x-request-id', requestId);
    try {
      if (req.method === 'GET' && (url.pathname === '/health' || url.pathname === '/ready')) {
        const ok = await options.ready().catch(() => false);
        send(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable' });
        return;
      }
      const route = options.routes?.[`${req.method} ${url.pathname}`];
      if (route) {
        const body = req.method === 'GET' ? Buffer.alloc(0) : await readBody(req, limit);
        const out = await route(req, body, requestId);
        send(res, out.status, out.body, out.headers);
        return;
      }
      if (url.pathname !== '/graphql' && url.pathname !== '/') {
        send(res, 404, { error: 'not found' });
        return;
      }
      const raw = req.method === 'POST' ? await readBody(req, limit) : Buffer.alloc(0);
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      let body: unknown = undefined;
      if (raw.length > 0) {
        const type = headers.get('content-type') ?? '';
        if (!type.includes('application/json')) {
          send(res, 415, { errors: [{ message: 'Send the request as JSON (content-type: application/json).', extensions: { code: 'BAD_REQUEST' } }] });
          return;
        }
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          send(res, 400, { errors: [{ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }] });
          return;
        }
      }
      const result = await options.apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
        context: () => options.context(req, requestId),
      });
      for (const [key, value] of result.headers) res.setHeader(key, value);
      res.statusCode = result.status ?? 200;
      if (result.body.kind === 'complete') {
        res.end(result.body.string);
      } else {
        for await (const chunk of result.body.asyncIterator) res.write(chunk);
        res.end();
      }
    } catch (e) {
      if (res.headersSent) {
        res.end();
        return;
      }
      if (e instanceof BodyTooLarge) {
        send(res, 413, { errors: [{ message: 'The request is too large.', extensions: { code: 'BAD_REQUEST' } }] });
        return;
      }
      console.error(`[http] unhandled ${(e as Error)?.name ?? 'error'} on ${req.method} ${url.pathname}`);
      send(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    }
  });
  // Above the gateway fetcher's 15 s keep-alive, so a reused socket is never closed under it.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
