/**
 * Metrics: the stack with METRICS_PORT (a free one) and METRICS_TOKEN. After a
 * PortalView, a refused token and a rate-limited download, one scrape shows
 * the requests, latencies, subgraph fetches, error codes, refusals, outbox and
 * sessions; a scrape without the token is refused on both ports.
 */
import { metricsServerPort, type RateLimitRule } from '@portal/kit';
import { operation, startTestStack, type TestStack } from './harness';

const TOKEN = 'metrics-e2e-token-0123456789abcdef';
const once: RateLimitRule = { perAddress: { points: 1, seconds: 600 }, global: null };

let stack: TestStack;
let text: string;

beforeAll(async () => {
  stack = await startTestStack({ metrics: { port: 0, host: '127.0.0.1', token: TOKEN }, rateLimits: { recordDownload: once } });
  const jane = await stack.signIn('jane.doe', 'Demo-Password-1');
  expect((await stack.query(operation('PortalView'), {}, jane)).errors).toBeUndefined();
  expect((await stack.query(operation('PortalView'), {}, `${jane}x`)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  const download = () => fetch(`${stack.gatewayUrl}/fhir/Patient/$everything`, { headers: { authorization: `Bearer ${jane}` } });
  expect((await download()).status).toBe(200);
  expect((await download()).status).toBe(429);
  text = await scrape(`http://127.0.0.1:${metricsServerPort()}/metrics`, TOKEN).then((r) => r.text());
});
afterAll(async () => {
  await stack?.stop();
});

const scrape = (url: string, token?: string) => fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });

/** The value of one series, by name and labels (all of them given), or undefined. */
function value(name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.indexOf('}'));
    const parts = inside.split(',');
    if (parts.length === wanted.length && wanted.every((w) => parts.includes(w))) return Number(line.slice(line.indexOf('}') + 1));
  }
  return undefined;
}

const SUBGRAPHS = ['identity', 'scheduling', 'messaging', 'pharmacy', 'clinical-records'];

describe('metrics', () => {
  it('counts requests and their latency per operation, at the gateway and in each subgraph', () => {
    expect(value('portal_http_requests_total', { service: 'gateway', operation: 'PortalView', outcome: 'ok' })).toBe(1);
    // The refused one too: it named PortalView.
    expect(value('portal_http_request_duration_seconds_count', { service: 'gateway', operation: 'PortalView' })).toBe(2);
    const sum = value('portal_http_request_duration_seconds_sum', { service: 'gateway', operation: 'PortalView' })!;
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(60);
    expect(value('portal_http_request_duration_seconds_bucket', { service: 'gateway', operation: 'PortalView', le: '+Inf' })).toBe(2);
    for (const service of SUBGRAPHS) {
      // The gateway names its fetches `PortalView__<subgraph>__<n>`.
      expect([service, new RegExp(`^portal_http_requests_total\\{service="${service}",operation="PortalView__[a-z_]+__\\d+",outcome="ok"\\} [1-9]`, 'm').test(text)]).toEqual([service, true]);
    }
  });

  it('times the gateway’s fetches per subgraph', () => {
    for (const subgraph of SUBGRAPHS) {
      expect([subgraph, value('portal_gateway_subgraph_fetch_duration_seconds_count', { subgraph, outcome: 'ok' })! >= 1]).toEqual([subgraph, true]);
    }
  });

  it('counts errors by code and rate-limit refusals by limit', () => {
    expect(value('portal_graphql_errors_total', { service: 'gateway', code: 'UNAUTHENTICATED' })).toBe(1);
    expect(value('portal_http_requests_total', { service: 'gateway', operation: 'PortalView', outcome: 'client_error' })).toBe(1);
    expect(value('portal_rate_limit_refusals_total', { service: 'gateway', limit: 'recordDownload' })).toBe(1);
    expect(value('portal_http_requests_total', { service: 'gateway', operation: 'GET /fhir/Patient/$everything', outcome: 'client_error' })).toBe(1);
  });

  it('reports the outboxes, the active sessions and the database pools', () => {
    expect(value('portal_outbox_rows', { outbox: 'pharmacy_outbox', state: 'dead' })).toBe(0);
    expect(value('portal_outbox_rows', { outbox: 'pharmacy_outbox', state: 'pending' })).toBeGreaterThanOrEqual(0);
    expect(value('portal_outbox_rows', { outbox: 'identity_notice', state: 'dead' })).toBe(0);
    expect(value('portal_sessions_active', { service: 'identity' })).toBeGreaterThanOrEqual(1);
    if (process.env.PORTAL_TEST_DB === 'postgres') {
      for (const service of SUBGRAPHS) {
        expect(value('portal_db_pool_connections', { service, state: 'max' })).toBe(10);
        expect(value('portal_db_pool_connections', { service, state: 'total' })).toBeGreaterThanOrEqual(1);
        expect(value('portal_db_pool_connections', { service, state: 'waiting' })).toBe(0);
      }
    } else {
      expect(text).not.toMatch(/^portal_db_pool_connections\{/m);
    }
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('refuses a scrape without the token, on the metrics port and on each service’s port', async () => {
    const port = `http://127.0.0.1:${metricsServerPort()}/metrics`;
    expect((await scrape(port)).status).toBe(401);
    expect((await scrape(port, 'metrics-e2e-token-0123456789abcdeX')).status).toBe(401);
    for (const base of [stack.gatewayUrl, ...SUBGRAPHS.map((s) => stack.subgraphs[s as keyof typeof stack.subgraphs].url)]) {
      expect((await scrape(`${base}/metrics`)).status).toBe(401);
      const ok = await scrape(`${base}/metrics`, TOKEN);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    }
    // Nothing of a patient in the exposition.
    expect(text).not.toMatch(/Jane|Doe|1000000001|pt-1/);
  });
});
