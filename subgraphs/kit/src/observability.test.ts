import { ApolloServer } from '@apollo/server';
import { listen, observeOperations, type RunningServer } from './http';
import { captureLogs, readLogSettings, scrubSecrets } from './logging';
import { codeLabel, joinMetricsServer, operationLabel, outcomeOf, readMetricsSettings, scrapeAllowed } from './metrics';
import { describeStatement } from './tracing';

describe('metrics settings', () => {
  it('serves nothing unless told, and refuses a bad port or a short token', () => {
    expect(readMetricsSettings({})).toEqual({ port: undefined, host: '127.0.0.1', token: undefined });
    expect(readMetricsSettings({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0', METRICS_TOKEN: 'x'.repeat(16) })).toEqual({ port: 9464, host: '0.0.0.0', token: 'x'.repeat(16) });
    expect(() => readMetricsSettings({ METRICS_PORT: 'nine' })).toThrow('METRICS_PORT must be a port number from 0 to 65535.');
    expect(() => readMetricsSettings({ METRICS_PORT: '70000' })).toThrow('METRICS_PORT');
    expect(() => readMetricsSettings({ METRICS_TOKEN: 'short' })).toThrow('METRICS_TOKEN must be at least 16 characters.');
  });

  it('checks the bearer token in constant time, and lets any scrape through without one', () => {
    expect(scrapeAllowed(undefined, undefined)).toBe(true);
    expect(scrapeAllowed('Bearer abcdefghijklmnop', 'abcdefghijklmnop')).toBe(true);
    expect(scrapeAllowed('Bearer abcdefghijklmnoq', 'abcdefghijklmnop')).toBe(false);
    expect(scrapeAllowed('abcdefghijklmnop', 'abcdefghijklmnop')).toBe(false);
    expect(scrapeAllowed(undefined, 'abcdefghijklmnop')).toBe(false);
  });
});

describe('metric labels', () => {
  it('keeps operation names bounded: malformed ones and those past the first 200 are `other`', () => {
    expect(operationLabel(undefined)).toBe('anonymous');
    expect(operationLabel('PortalView')).toBe('PortalView');
    expect(operationLabel('Jane Doe 1000000001')).toBe('other');
    for (let i = 0; i < 250; i++) operationLabel(`Generated${i}`);
    expect(operationLabel('OneTooMany')).toBe('other');
    // One seen before the cap keeps its name.
    expect(operationLabel('PortalView')).toBe('PortalView');
  });

  it('takes codes of the registry’s shape only, and sorts outcomes by status', () => {
    expect(codeLabel('RATE_LIMITED')).toBe('RATE_LIMITED');
    expect(codeLabel('not a code')).toBe('OTHER');
    expect(codeLabel(undefined)).toBe('OTHER');
    expect([outcomeOf(200, 0), outcomeOf(200, 1), outcomeOf(401, 1), outcomeOf(503, 1)]).toEqual(['ok', 'partial', 'client_error', 'server_error']);
  });
});

describe('SQL span names', () => {
  it('name the verb and the first table, never a value', () => {
    expect(describeStatement(`SELECT "p"."id" FROM "person" "p" WHERE "p"."id" = $1`)).toEqual({ operation: 'SELECT', table: 'person' });
    expect(describeStatement('INSERT INTO audit_event (id) VALUES (?)')).toEqual({ operation: 'INSERT', table: 'audit_event' });
    expect(describeStatement(`UPDATE "portal"."session" SET ended_at = 'x'`)).toEqual({ operation: 'UPDATE', table: 'session' });
    expect(describeStatement('BEGIN TRANSACTION')).toEqual({ operation: 'BEGIN' });
  });
});

describe('log settings', () => {
  it('defaults to info, JSON in production and readable otherwise, and names a bad value', () => {
    expect(readLogSettings({ NODE_ENV: 'production' })).toEqual({ level: 'info', format: 'json' });
    expect(readLogSettings({})).toEqual({ level: 'info', format: 'pretty' });
    expect(readLogSettings({ LOG_LEVEL: 'DEBUG', LOG_FORMAT: 'json' })).toEqual({ level: 'debug', format: 'json' });
    expect(() => readLogSettings({ LOG_LEVEL: 'loud' })).toThrow('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent.');
    expect(() => readLogSettings({ LOG_FORMAT: 'xml' })).toThrow('LOG_FORMAT must be json or pretty.');
  });

  it('replaces bearer tokens and JWTs in messages', () => {
    expect(scrubSecrets('sent Bearer abc.def-ghi to x')).toBe('sent Bearer [redacted] to x');
    expect(scrubSecrets('token eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl seen')).toBe('token [redacted-jwt] seen');
  });
});

describe('the metrics endpoints', () => {
  const apollo = new ApolloServer({ typeDefs: 'type Query { a: Int }', resolvers: { Query: { a: () => 1 } }, plugins: [observeOperations] });
  const servers: RunningServer[] = [];
  beforeAll(() => apollo.start());
  afterAll(async () => {
    for (const s of servers) await s.close();
    await apollo.stop();
  });
  const start = async (metricsToken?: string) => {
    const server = await listen({ apollo, context: async () => ({}), ready: async () => true, service: 'unit', metricsToken }, 0);
    servers.push(server);
    return server;
  };

  // PortalView: a name seen before the label cap above was reached.
  it('a service answers /metrics on its own port only with METRICS_TOKEN set, and only to that token', async () => {
    const open = await start();
    expect((await fetch(`${open.url}/metrics`)).status).toBe(404);
    const guarded = await start('unit-test-token-0123456789');
    expect((await fetch(`${guarded.url}/metrics`)).status).toBe(401);
    const res = await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer unit-test-token-0123456789' } });
    expect(res.status).toBe(200);
    await fetch(`${guarded.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'query PortalView { a }' }) });
    const text = await (await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer unit-test-token-0123456789' } })).text();
    expect(text).toMatch(/^portal_http_requests_total\{service="unit",operation="PortalView",outcome="ok"\} 1$/m);
  });

  it('the metrics port is shared by the services of a process and closes with the last', async () => {
    const a = await joinMetricsServer({ port: 0, host: '127.0.0.1' });
    const b = await joinMetricsServer({ port: 0, host: '127.0.0.1' });
    expect(b!.port).toBe(a!.port);
    expect((await fetch(`http://127.0.0.1:${a!.port}/metrics`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${a!.port}/other`)).status).toBe(404);
    await a!.leave();
    expect((await fetch(`http://127.0.0.1:${a!.port}/metrics`)).status).toBe(200);
    await b!.leave();
    await expect(fetch(`http://127.0.0.1:${a!.port}/metrics`)).rejects.toThrow();
    expect(await joinMetricsServer({ host: '127.0.0.1' })).toBeUndefined();
  });

  it('logs one line per request with its id and outcome, and none for probes', async () => {
    const server = await start();
    const log = captureLogs('info');
    const quiet = process.env.PORTAL_QUIET;
    delete process.env.PORTAL_QUIET;
    try {
      await fetch(`${server.url}/health/ready`);
      const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ a }' }) });
      expect(res.status).toBe(200);
      expect(log.lines).toEqual([
        expect.objectContaining({ level: 'info', msg: 'request', service: 'unit', requestId: res.headers.get('x-request-id'), method: 'POST', path: '/graphql', operation: 'anonymous', status: 200 }),
      ]);
    } finally {
      log.restore();
      if (quiet !== undefined) process.env.PORTAL_QUIET = quiet;
    }
  });
});

describe('SQL spans', () => {
  it('one span per statement, also where the driver hands out the same runner every time (better-sqlite3)', async () => {
    const { InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const { startTracing, tracerOf, traceStatements } = await import('./tracing');
    const { DataSource } = await import('typeorm');
    const exporter = new InMemorySpanExporter();
    const tracing = startTracing({ serviceName: 'unit', spanProcessors: [new SimpleSpanProcessor(exporter)] })!;
    const db = new DataSource({ type: 'better-sqlite3', database: ':memory:' });
    try {
      await db.initialize();
      traceStatements(db, 'sqlite', 'unit', 'unit');
      await db.query('SELECT 1');
      expect(exporter.getFinishedSpans()).toHaveLength(0);
      await tracerOf('unit').startActiveSpan('request', async (span) => {
        for (let i = 0; i < 3; i++) await db.query('SELECT ? AS secret', ['1000000001']);
        span.end();
      });
      const sql = exporter.getFinishedSpans().filter((s) => s.name !== 'request');
      expect(sql.map((s) => s.name)).toEqual(['SELECT', 'SELECT', 'SELECT']);
      const request = exporter.getFinishedSpans().find((s) => s.name === 'request')!;
      for (const s of sql) expect(s.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
      expect(JSON.stringify(sql.map((s) => s.attributes))).not.toContain('1000000001');
    } finally {
      if (db.isInitialized) await db.destroy();
      await tracing.shutdown();
    }
  });
});

describe('tracing on and off', () => {
  it('registers nothing without OTEL_EXPORTER_OTLP_ENDPOINT: no span is recorded, no header is sent', async () => {
    const { injectTraceHeaders, joinTracing, tracerOf } = await import('./tracing');
    const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    const joined = joinTracing('portal-unit');
    try {
      tracerOf('unit').startActiveSpan('request', (span) => {
        expect(span.isRecording()).toBe(false);
        expect(injectTraceHeaders({})).toEqual({});
        span.end();
      });
    } finally {
      await joined.leave();
      if (saved !== undefined) process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
    }
  });

  it('exports over OTLP http/protobuf to OTEL_EXPORTER_OTLP_ENDPOINT, flushed when the last server leaves', async () => {
    const http = await import('node:http');
    const path = await import('node:path');
    const { spawn } = await import('node:child_process');
    const received: { path?: string; type?: string; bytes: number }[] = [];
    const collector = http.createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => {
        received.push({ path: req.url, type: req.headers['content-type'], bytes });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    let out = '';
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', () => resolve()));
    try {
      const endpoint = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures', 'traceExport.ts')], {
        env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
      const [first, headers] = out.trim().split('\n');
      expect(first).toBe('left-one');
      expect(JSON.parse(headers).traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(received).toEqual([{ path: '/v1/traces', type: 'application/x-protobuf', bytes: expect.any(Number) }]);
      expect(received[0].bytes).toBeGreaterThan(50);
    } finally {
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});
