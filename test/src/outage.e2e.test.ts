/**
 * One subgraph down, hung or failing costs only its own sections: PortalView
 * keeps every other section, the missing one is null with SERVICE_UNAVAILABLE
 * at its exact path, a hung subgraph costs at most the timeout, the circuit
 * opens after the threshold and closes by itself once the subgraph is back,
 * and the gateway stays ready (degraded) unless identity is down.
 *
 * Each case runs its own gateway in front of the shared stack's subgraphs,
 * with short timeouts and its own breakers, one subgraph reached through a
 * line the test can cut, hang or replace.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningServer } from '@portal/kit';
import { gql, startFaultProxy, type FaultProxy } from '@portal/kit/testing';
import { DEFAULT_SUBGRAPH_LIMITS, fhirRoutes, startGateway, SUBGRAPHS, type BreakerSettings, type SubgraphName } from '@portal/gateway';
import { SECTION_UNAVAILABLE } from '@portal/gateway/testing';
import { operation, startTestStack, type TestStack } from './harness';

const PORTAL_VIEW = operation('PortalView');
const PRESCRIPTIONS = ['me', 'patient', 'prescriptions'];

let stack: TestStack;
let jane: string;
/** PortalView for Jane with every subgraph up, through the stack's own gateway. */
let full: any;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  jane = await stack.signIn('jane.doe', 'Demo-Password-1');
  const res = await stack.query(PORTAL_VIEW, {}, jane);
  expect(res.errors).toBeUndefined();
  full = res.data;
  // The cases below mean something only if Jane has each section.
  expect(full.me.patient.prescriptions.length).toBeGreaterThan(0);
  expect(full.me.patient.upcomingAppointments.length).toBeGreaterThan(0);
  expect(full.me.patient.labResults.edges.length).toBeGreaterThan(0);
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await stack?.stop();
});

/** A fault proxy in front of `name`'s server, for a gateway to reach it through. */
async function lineTo(name: SubgraphName): Promise<FaultProxy & { url: string }> {
  const target = new URL(stack.subgraphs[name].url);
  const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
  cleanups.push(proxy.close);
  return { ...proxy, url: `http://127.0.0.1:${proxy.port}` };
}

/** An HTTP server standing in for a subgraph: `answer` decides every reply; counts the GraphQL requests it gets. */
async function fakeSubgraph(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{ url: string; requests(): number }> {
  let requests = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/graphql') requests++;
    req.resume().on('end', () => answer(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests };
}

/**
 * An HTTP front for `name` that passes requests on, holds them unanswered
 * (hung), answers its GraphQL requests 500 and passes the rest on (its
 * /health, JWKS and session checks), or answers 500 only to its entity
 * requests (`_entities`); counts the GraphQL requests that reach it, so a
 * test sees that an open circuit sends none, and the entity requests.
 */
async function switchable(name: SubgraphName) {
  let mode: 'pass' | 'hang' | 'fail-graphql' | 'fail-entities' = 'pass';
  let requests = 0;
  let entityRequests = 0;
  const target = stack.subgraphs[name].url;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const entities = req.url === '/graphql' && Buffer.concat(chunks).includes('_entities');
    if (req.url === '/graphql') requests++;
    if (entities) entityRequests++;
    if (mode === 'hang') return;
    if (mode === 'fail-graphql' && req.url === '/graphql') return void res.writeHead(500).end();
    if (mode === 'fail-entities' && entities) return void res.writeHead(500).end();
    const headers = Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length', 'keep-alive'].includes(k)) as [string, string][];
    const upstream = await fetch(`${target}${req.url}`, { method: req.method, headers, body: req.method === 'GET' ? undefined : Buffer.concat(chunks) });
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    entityRequests: () => entityRequests,
    hang: () => (mode = 'hang'),
    failGraphQL: () => (mode = 'fail-graphql'),
    failEntities: () => (mode = 'fail-entities'),
    restore: () => (mode = 'pass'),
  };
}

/** A gateway in front of the stack's subgraphs, with `urls` replacing some of them. */
async function gatewayWith(urls: Partial<Record<SubgraphName, string>>, limits: { timeoutMs?: number; breaker?: Partial<BreakerSettings>; mergeEntityFetches?: boolean } = {}): Promise<{ url: string; graphqlUrl: string }> {
  const subgraphUrls = Object.fromEntries(SUBGRAPHS.map((s) => [s.name, urls[s.name] ?? stack.subgraphs[s.name].url])) as Record<SubgraphName, string>;
  const portal = { ...stack.subgraphs.identity.runtime.config, identityUrl: subgraphUrls.identity };
  const gateway: RunningServer = await startGateway({
    config: {
      portal,
      port: 0,
      host: '127.0.0.1',
      subgraphUrls,
      subgraphTimeoutMs: limits.timeoutMs ?? 10_000,
      breaker: { ...DEFAULT_SUBGRAPH_LIMITS.breaker, ...limits.breaker },
      mergeEntityFetches: limits.mergeEntityFetches,
    },
    routes: fhirRoutes,
  });
  cleanups.push(gateway.close);
  return { url: gateway.url, graphqlUrl: `${gateway.url}/graphql` };
}

/** PortalView for Jane through `gatewayUrl`, with how long it took. */
async function portalView(graphqlUrl: string) {
  const started = Date.now();
  const res = await gql<any>(graphqlUrl, PORTAL_VIEW, {}, jane);
  return { ...res, ms: Date.now() - started };
}

/** The answer without the named sections of me.patient, to compare with the full one (the session's expiry moves with every request). */
function without(data: any, ...fields: string[]) {
  const copy = structuredClone(data);
  delete copy.me.session;
  for (const f of fields) delete copy.me.patient[f];
  return copy;
}

/** Nothing internal in what the client gets: no address, no URL, no Node or fetch detail. */
function expectNothingInternal(errors: unknown) {
  expect(JSON.stringify(errors)).not.toMatch(/127\.0\.0\.1|localhost|https?:|ECONN|fetch failed|Timeout|stack|pharmacy|scheduling|messaging|clinical|identity/i);
}

async function eventually<T>(attempt: () => Promise<T>, done: (t: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const t = await attempt();
    if (done(t) || Date.now() > until) return t;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('pharmacy stopped', () => {
  it('answers every other section of PortalView in full; prescriptions is null with SERVICE_UNAVAILABLE at its path (200)', async () => {
    const line = await lineTo('pharmacy');
    const gateway = await gatewayWith({ pharmacy: line.url });
    line.cut();
    const res = await portalView(gateway.graphqlUrl);
    expect(res.status).toBe(200);
    expect(res.data.me.patient.prescriptions).toBeNull();
    expect(without(res.data, 'prescriptions')).toEqual(without(full, 'prescriptions'));
    expect(res.errors).toEqual([{ message: SECTION_UNAVAILABLE, path: PRESCRIPTIONS, extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: 5 } }]);
    expectNothingInternal(res.errors);

    line.restore();
    const back = await eventually(() => portalView(gateway.graphqlUrl), (r) => !r.errors);
    expect(back.errors).toBeUndefined();
    expect(without(back.data)).toEqual(without(full));
  });

  it('answers a query that only pharmacy serves with data null, 503 and Retry-After', async () => {
    const line = await lineTo('pharmacy');
    const gateway = await gatewayWith({ pharmacy: line.url });
    line.cut();
    const res = await fetch(gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${jane}` },
      body: JSON.stringify({ query: '{ pendingPharmacyRequests { id } }' }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const body = (await res.json()) as any;
    expect(body.data).toBeNull();
    expect(body.errors).toEqual([{ message: SECTION_UNAVAILABLE, path: ['pendingPharmacyRequests'], extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: 5 } }]);
  });
});

it('clinical records down: lab results and visit notes are null, and each medication’s education, while the prescriptions stay', async () => {
  const line = await lineTo('clinical-records');
  const gateway = await gatewayWith({ 'clinical-records': line.url });
  line.cut();
  const res = await portalView(gateway.graphqlUrl);
  expect(res.status).toBe(200);
  const patient = res.data.me.patient;
  expect(patient.labResults).toBeNull();
  expect(patient.visitNotes).toBeNull();
  const prescriptions = full.me.patient.prescriptions as any[];
  expect(patient.prescriptions).toEqual(prescriptions.map((p) => ({ ...p, medication: { ...p.medication, education: null } })));
  expect(without(res.data, 'labResults', 'visitNotes', 'prescriptions')).toEqual(without(full, 'labResults', 'visitNotes', 'prescriptions'));
  const paths = res.errors!.map((e) => e.path);
  expect(paths).toEqual(
    expect.arrayContaining([
      ['me', 'patient', 'labResults'],
      ['me', 'patient', 'visitNotes'],
      ...prescriptions.map((_, i) => ['me', 'patient', 'prescriptions', i, 'medication', 'education']),
    ]),
  );
  expect(paths).toHaveLength(2 + prescriptions.length);
  expect(res.errors!.every((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE')).toBe(true);
  expectNothingInternal(res.errors);
});

it('the record download is refused whole (503, transient), never handed out with a section missing', async () => {
  const line = await lineTo('clinical-records');
  const gateway = await gatewayWith({ 'clinical-records': line.url });
  line.cut();
  const res = await fetch(`${gateway.url}/fhir/Patient/$everything`, { headers: { authorization: `Bearer ${jane}` } });
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toEqual(expect.stringMatching(/^\d+$/));
  expect(await res.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'transient' }] });
});

describe('pharmacy hung', () => {
  const timeoutMs = 1_500;

  it('answers the other sections within the timeout budget (plus a margin for a loaded machine)', async () => {
    const line = await lineTo('pharmacy');
    const gateway = await gatewayWith({ pharmacy: line.url }, { timeoutMs });
    line.hang();
    const res = await portalView(gateway.graphqlUrl);
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(timeoutMs + 8_000);
    expect(without(res.data, 'prescriptions')).toEqual(without(full, 'prescriptions'));
    expect(res.errors).toEqual([{ message: SECTION_UNAVAILABLE, path: PRESCRIPTIONS, extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: 5 } }]);
  });

  it('opens the circuit after the threshold (none waits or reaches it), and closes it once pharmacy answers again', async () => {
    const pharmacy = await switchable('pharmacy');
    const resetMs = 6_000;
    const gateway = await gatewayWith({ pharmacy: pharmacy.url }, { timeoutMs, breaker: { failures: 2, resetMs } });
    expect((await portalView(gateway.graphqlUrl)).errors).toBeUndefined();
    pharmacy.hang();
    for (let i = 0; i < 2; i++) {
      const res = await portalView(gateway.graphqlUrl);
      expect(res.errors?.map((e) => e.path)).toEqual([PRESCRIPTIONS]);
      // Each waited for its timeout: the subgraph did not answer.
      expect(res.ms).toBeGreaterThanOrEqual(timeoutMs - 100);
    }
    const reached = pharmacy.requests();
    // Open: the next requests fail at once for pharmacy and never reach it.
    for (let i = 0; i < 3; i++) {
      const res = await portalView(gateway.graphqlUrl);
      expect(res.errors).toEqual([{ message: SECTION_UNAVAILABLE, path: PRESCRIPTIONS, extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: 6 } }]);
      expect(without(res.data, 'prescriptions')).toEqual(without(full, 'prescriptions'));
    }
    expect(pharmacy.requests()).toBe(reached);
    const report = (await (await fetch(`${gateway.url}/health`)).json()) as any;
    expect(report.degraded).toContain('pharmacy');

    pharmacy.restore();
    const back = await eventually(() => portalView(gateway.graphqlUrl), (r) => !r.errors);
    expect(without(back.data)).toEqual(without(full));
    expect(pharmacy.requests()).toBeGreaterThan(reached);
    expect(await (await fetch(`${gateway.url}/health`)).json()).toMatchObject({ status: 'ok', degraded: [] });
  });
});

describe('a subgraph that answers but not with data', () => {
  const busy = JSON.stringify({ errors: [{ message: 'Prescriptions are busy right now. Try again shortly.', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });

  it('a subgraph’s own 503 SERVICE_UNAVAILABLE is that section’s outage: its message and Retry-After at the path; its circuit stays closed', async () => {
    const fake = await fakeSubgraph((_req, res) => res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '7' }).end(busy));
    const gateway = await gatewayWith({ pharmacy: fake.url }, { breaker: { failures: 1 } });
    for (let i = 1; i <= 3; i++) {
      const res = await portalView(gateway.graphqlUrl);
      expect(res.status).toBe(200);
      expect(res.errors).toEqual([
        { message: 'Prescriptions are busy right now. Try again shortly.', path: PRESCRIPTIONS, extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: 7 } },
      ]);
      expect(without(res.data, 'prescriptions')).toEqual(without(full, 'prescriptions'));
      // A deliberate refusal answered at once: every request still reaches it.
      expect(fake.requests()).toBe(i);
    }
  });

  it.each([
    ['a 500 with a page', 500, 'text/html', '<h1>Internal Server Error at 10.0.0.7</h1>'],
    ['a 502 from a proxy', 502, 'text/plain', 'Bad Gateway'],
    ['a 200 that is not JSON', 200, 'text/html', '<html>maintenance</html>'],
    ['a 200 that is JSON but not GraphQL', 200, 'application/json', '{"status":"ok"}'],
  ])('%s is an outage: SERVICE_UNAVAILABLE at the path, nothing of the answer passed on, and it counts towards the circuit', async (_, status, type, body) => {
    const fake = await fakeSubgraph((_req, res) => res.writeHead(status, { 'content-type': type }).end(body));
    const gateway = await gatewayWith({ pharmacy: fake.url }, { breaker: { failures: 2, resetMs: 60_000 } });
    for (let i = 0; i < 3; i++) {
      const res = await portalView(gateway.graphqlUrl);
      expect(res.status).toBe(200);
      expect(res.errors).toEqual([{ message: SECTION_UNAVAILABLE, path: PRESCRIPTIONS, extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: 60 } }]);
      expect(without(res.data, 'prescriptions')).toEqual(without(full, 'prescriptions'));
    }
    // Two failures opened the circuit: the third request never reached the subgraph.
    expect(fake.requests()).toBe(2);
  });
});

describe('readiness', () => {
  it('stays ready (200) with a subgraph down, and names it as degraded', async () => {
    const line = await lineTo('pharmacy');
    const gateway = await gatewayWith({ pharmacy: line.url });
    expect(await (await fetch(`${gateway.url}/health`)).json()).toEqual({
      status: 'ok',
      degraded: [],
      subgraphs: { identity: 'up', scheduling: 'up', messaging: 'up', pharmacy: 'up', 'clinical-records': 'up' },
    });
    line.cut();
    const res = await fetch(`${gateway.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ok',
      degraded: ['pharmacy'],
      subgraphs: { identity: 'up', scheduling: 'up', messaging: 'up', pharmacy: 'down', 'clinical-records': 'up' },
    });
  });

  it('reports a subgraph whose circuit is open as degraded even while its /health answers', async () => {
    const fake = await fakeSubgraph((req, res) => (req.url === '/health' ? res.writeHead(200).end('{}') : res.writeHead(500).end()));
    const gateway = await gatewayWith({ pharmacy: fake.url }, { breaker: { failures: 1, resetMs: 60_000 } });
    await portalView(gateway.graphqlUrl);
    const res = await fetch(`${gateway.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', degraded: ['pharmacy'], subgraphs: { pharmacy: 'circuit-open' } });
  });

  it('stays ready while identity answers its /health, even with identity’s circuit open (a replica out of rotation could never close it)', async () => {
    const identity = await switchable('identity');
    const gateway = await gatewayWith({ identity: identity.url }, { breaker: { failures: 1, resetMs: 60_000 } });
    identity.failGraphQL();
    const res = await portalView(gateway.graphqlUrl);
    expect(res.status).toBe(503);
    expect(res.errors).toEqual([{ message: SECTION_UNAVAILABLE, path: ['me'], extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: 60 } }]);
    const health = await fetch(`${gateway.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', degraded: ['identity'], subgraphs: { identity: 'circuit-open' } });
  });

  it('is not ready (503) without identity, which every token is checked against', async () => {
    const line = await lineTo('identity');
    const gateway = await gatewayWith({ identity: line.url });
    line.cut();
    const res = await fetch(`${gateway.url}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'unavailable', degraded: ['identity'], subgraphs: { identity: 'down', pharmacy: 'up' } });
  });
});

describe('identity failing the names it is asked for in one merged request', () => {
  it('answers as without merging, each name failed at its own path, and counts once towards identity\'s circuit', async () => {
    // Identity answers `me` and everything else, but 500 to its entity requests (SUBGRAPH_FETCH_MERGING sends the
    // practitioners, prescribers, note authors and care teams of PortalView as one of them).
    const front = await switchable('identity');
    front.failEntities();
    const identity = front.url;
    const merging = await gatewayWith({ identity }, { breaker: { failures: 2, resetMs: 60_000 } });
    const plain = await gatewayWith({ identity }, { breaker: { failures: 100 }, mergeEntityFetches: false });

    const merged = await portalView(merging.graphqlUrl);
    expect(front.entityRequests()).toBe(1);
    const alone = await portalView(plain.graphqlUrl);
    expect(front.entityRequests()).toBe(5);

    expect([merged.status, alone.status]).toEqual([200, 200]);
    expect(merged.errors!.every((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE' && e.message === SECTION_UNAVAILABLE)).toBe(true);
    expectNothingInternal(merged.errors);
    const paths = (errors: typeof merged.errors) => errors!.map((e) => JSON.stringify(e.path)).sort();
    expect(paths(merged.errors)).toEqual(paths(alone.errors));
    // One error per name asked for: the appointments' practitioners, the prescribers, the note authors, the care teams.
    const at = (prefix: (string | number)[]) => merged.errors!.some((e) => prefix.every((step, i) => e.path?.[i] === step));
    expect([at(['me', 'patient', 'upcomingAppointments', 0, 'practitioner']), at(['me', 'patient', 'prescriptions', 0, 'prescriber'])]).toEqual([true, true]);
    expect([at(['me', 'patient', 'visitNotes', 'edges', 0, 'node', 'author']), at(['me', 'patient', 'messageThreads', 'edges', 0, 'node', 'careTeam'])]).toEqual([true, true]);
    expect(without(merged.data)).toEqual(without(alone.data));
    expect(merged.data.me.account).toEqual(full.me.account);
    expect(merged.data.me.patient.labResults).toEqual(full.me.patient.labResults);

    // One failed request, one failure: with a threshold of two, identity's circuit is still closed after it.
    const health = (await fetch(`${merging.url}/health`).then((r) => r.json())) as { subgraphs: Record<string, string> };
    expect(health.subgraphs.identity).toBe('up');
  });
});

it('a server that is really stopped (messaging closed) costs only its sections, with nothing internal in the errors', async () => {
  await stack.subgraphs.messaging.close();
  const res = await stack.query(PORTAL_VIEW, {}, jane);
  expect(res.status).toBe(200);
  const patient = res.data.me.patient;
  expect(patient.unreadMessageCount).toBeNull();
  expect(patient.messageThreads).toBeNull();
  expect(without(res.data, 'unreadMessageCount', 'messageThreads')).toEqual(without(full, 'unreadMessageCount', 'messageThreads'));
  expect(res.errors?.map((e) => e.path)).toEqual(expect.arrayContaining([['me', 'patient', 'unreadMessageCount'], ['me', 'patient', 'messageThreads']]));
  expect(res.errors).toHaveLength(2);
  expect(res.errors!.every((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE' && e.message === SECTION_UNAVAILABLE)).toBe(true);
  expectNothingInternal(res.errors);
  expect((await fetch(`${stack.gatewayUrl}/health`)).status).toBe(200);
});
