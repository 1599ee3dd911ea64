/**
 * The edge of every server, tried as an attacker would: hostile document
 * shapes at the gateway and straight at a subgraph, oversized requests and
 * answers, browsers from other origins, the schema in production, and the
 * trusted-documents mode.
 */
import http from 'node:http';
import { DEFAULT_EDGE_SETTINGS, loadSigningKey, buildSubgraphServer, type EdgeSettings, type RunningServer } from '@portal/kit';
import { DEMO } from '@portal/demo';
import { gql, mintToken } from '@portal/kit/testing';
import { createIdentityModule } from '@portal/identity';
import { DEFAULT_SUBGRAPH_LIMITS, fhirRoutes, startGateway, SUBGRAPHS, type SubgraphName } from '@portal/gateway';
import { buildManifest } from '@portal/gateway/testing';
import { operation, startTestStack, type TestStack } from './harness';

const PORTAL_ORIGIN = 'https://portal.example.mil';
let stack: TestStack;
let jane: string;
const extra: RunningServer[] = [];

beforeAll(async () => {
  stack = await startTestStack({ edge: { ...DEFAULT_EDGE_SETTINGS, corsOrigins: [PORTAL_ORIGIN] } });
  jane = await stack.signIn('jane.doe', 'Demo-Password-1');
});
afterAll(async () => {
  for (const g of extra) await g.close();
  await stack?.stop();
});

/** Another gateway in front of the same subgraphs, with other settings. */
async function gatewayWith(edge: Partial<EdgeSettings>, production = false): Promise<string> {
  const subgraphUrls = Object.fromEntries(SUBGRAPHS.map((s) => [s.name, stack.subgraphs[s.name as SubgraphName].url])) as Record<SubgraphName, string>;
  const portal = { ...stack.subgraphs.identity.runtime.config, identityUrl: subgraphUrls.identity, production, edge: { ...DEFAULT_EDGE_SETTINGS, ...edge } };
  const gateway = await startGateway({ config: { portal, port: 0, host: '127.0.0.1', subgraphUrls, ...DEFAULT_SUBGRAPH_LIMITS, subgraphTimeoutMs: 10_000 }, routes: fhirRoutes });
  extra.push(gateway);
  return gateway.url;
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

/** A refusal as it must look: the status, one error with the code, no data, nothing of the server's insides. */
async function expectRefused(res: Response, status: number, codes: string[]) {
  const text = await res.text();
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  const body = JSON.parse(text);
  expect(body.data ?? undefined).toBeUndefined();
  expect(codes).toContain(body.errors?.[0]?.extensions?.code);
  expect(text).not.toMatch(/\bat .+\.(ts|js):\d+|stacktrace|node_modules/i);
  return body;
}

function doubling(levels: number): string {
  const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`);
  return `query { ...F0 } ${fragments.join(' ')} fragment F${levels} on Query { supportContacts { phone } }`;
}

const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: supportContacts { phone }`).join(' ')} }`;

describe('hostile documents at the gateway', () => {
  it('refuses 30 levels of fragment doubling (2^30 fields) at validation', async () => {
    const body = await expectRefused(await post(stack.graphqlUrl, JSON.stringify({ query: doubling(30) })), 400, ['GRAPHQL_VALIDATION_FAILED']);
    expect(body.errors.map((e: { message: string }) => e.message)).toContain(
      `The operation would resolve more than ${DEFAULT_EDGE_SETTINGS.document.maxCost} fields; ask for less at a time.`,
    );
  });

  it('refuses 10,000 aliases before parsing, and 100 at validation', async () => {
    await expectRefused(await post(stack.graphqlUrl, JSON.stringify({ query: aliases(10_000) })), 400, ['BAD_REQUEST']);
    const body = await expectRefused(await post(stack.graphqlUrl, JSON.stringify({ query: aliases(100) })), 400, ['GRAPHQL_VALIDATION_FAILED']);
    expect(body.errors[0].message).toBe(`The document uses more than ${DEFAULT_EDGE_SETTINGS.document.maxAliases} aliases; ask for less at a time.`);
  });

  it('refuses deep nesting, many directives and too many tokens', async () => {
    let inner = 'id';
    for (let i = 0; i < 5; i++) inner = `careTeams { threads(first: 1) { edges { node { patient { ${inner} } } } } }`;
    await expectRefused(await post(stack.graphqlUrl, JSON.stringify({ query: `{ me { patient { ${inner} } } }` }), { authorization: `Bearer ${jane}` }), 400, ['GRAPHQL_VALIDATION_FAILED']);
    const directives = `{ supportContacts { phone ${'@include(if: true) '.repeat(50)} } }`;
    await expectRefused(await post(stack.graphqlUrl, JSON.stringify({ query: directives })), 400, ['GRAPHQL_VALIDATION_FAILED']);
    // Short enough for the query text limit, too many tokens for the parser.
    const tokens = `{ supportContacts { ${'a '.repeat(DEFAULT_EDGE_SETTINGS.document.maxTokens)} } }`;
    await expectRefused(await post(stack.graphqlUrl, JSON.stringify({ query: tokens })), 400, ['GRAPHQL_PARSE_FAILED']);
  });

  it('still answers the portal’s own operations', async () => {
    const res = await stack.query(operation('PortalView'), {}, jane);
    expect(res.errors).toBeUndefined();
    expect(res.data.me.patient.id).toBe(DEMO.jane);
  });
});

describe('hostile documents straight at a subgraph', () => {
  const ENTITIES = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id } } }';
  const reps = (n: number) => Array.from({ length: n }, (_, i) => ({ __typename: 'Patient', id: `p${i}` }));

  it('refuses fragment doubling there too', async () => {
    await expectRefused(await post(stack.subgraphs.identity.graphqlUrl, JSON.stringify({ query: doubling(30) })), 400, ['GRAPHQL_VALIDATION_FAILED']);
  });

  it('refuses more _entities representations than the limit, and a huge list by its size', async () => {
    const url = stack.subgraphs['clinical-records'].graphqlUrl;
    const over = await expectRefused(await post(url, JSON.stringify({ query: ENTITIES, variables: { r: reps(DEFAULT_EDGE_SETTINGS.maxEntities + 1) } })), 400, ['BAD_REQUEST']);
    expect(over.errors[0].message).toMatch(/at most 1000 representations/);
    await expectRefused(await post(url, JSON.stringify({ query: ENTITIES, variables: { r: reps(10_000) } })), 400, ['BAD_REQUEST']);
    // Within the count but not the cost: 500 patients each asking 100 lab results.
    const costly = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { labResults(first: 100) { edges { node { id value } } } } } }';
    const cost = await expectRefused(await post(url, JSON.stringify({ query: costly, variables: { r: reps(500) } }), { authorization: `Bearer ${jane}` }), 400, ['BAD_REQUEST']);
    expect(cost.errors[0].message).toMatch(/would resolve more than/);
  });

  it('judges each _entities of one operation on its own (the gateway merges a plan level into one operation)', async () => {
    const url = stack.subgraphs['clinical-records'].graphqlUrl;
    const results = '... on Patient { labResults(first: 100) { edges { node { id value } } } }';
    const one = `query($r: [_Any!]!) { _entities(representations: $r) { ${results} } }`;
    const two = `query($r: [_Any!]!, $s: [_Any!]!) { a: _entities(representations: $r) { ${results} } b: _entities(representations: $s) { ${results} } }`;
    const ask = (query: string, variables: object) => post(url, JSON.stringify({ query, variables }), { authorization: `Bearer ${jane}` });
    // 100 patients' results pass alone; 200 at once are over the cost: the pair below costs as much in all.
    expect((await ask(one, { r: reps(100) })).status).toBe(200);
    await expectRefused(await ask(one, { r: reps(200) }), 400, ['BAD_REQUEST']);
    const pair = await ask(two, { r: reps(100), s: reps(100) });
    expect(pair.status).toBe(200);
    expect(JSON.stringify(await pair.json())).not.toMatch(/would resolve more than/);
    // Each is still judged: one of the two over the cost is refused.
    const mixed = (await (await ask(two, { r: reps(100), s: reps(200) })).json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
    expect(mixed.errors?.some((e) => e.extensions?.code === 'BAD_REQUEST' && /would resolve more than/.test(e.message))).toBe(true);
  });
});

/** Sends raw HTTP on one kept-alive socket, so a test can see the server answer the next request on it. */
function rawRequest(agent: http.Agent, url: string, body: Buffer | Buffer[], headers: Record<string, string>): Promise<{ status: number; text: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), reused: req.reusedSocket }));
    });
    req.on('error', reject);
    for (const chunk of Array.isArray(body) ? body : [body]) req.write(chunk);
    req.end();
  });
}

describe('sizes', () => {
  const small = Buffer.from(JSON.stringify({ query: '{ supportContacts { phone } }' }));

  it('answers a body over the limit with 413 from Content-Length, then serves the next request on the same connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = Buffer.alloc(DEFAULT_EDGE_SETTINGS.maxBodyBytes + 1, 0x20);
      const refused = await rawRequest(agent, stack.graphqlUrl, big, { 'content-length': String(big.length) });
      expect(refused.status).toBe(413);
      expect(JSON.parse(refused.text)).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
      const next = await rawRequest(agent, stack.graphqlUrl, small, { 'content-length': String(small.length) });
      expect(next.status).toBe(200);
      expect(next.reused).toBe(true);
      expect(JSON.parse(next.text).data.supportContacts).toHaveLength(2);
    } finally {
      agent.destroy();
    }
  });

  it('answers 413 to a body streamed without a length, at a subgraph too', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const chunks = Array.from({ length: 20 }, () => Buffer.alloc(100_000, 0x20));
      for (const url of [stack.graphqlUrl, stack.subgraphs.identity.graphqlUrl]) {
        const refused = await rawRequest(agent, url, chunks, { 'transfer-encoding': 'chunked' });
        expect(refused.status).toBe(413);
        expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
      }
      const next = await rawRequest(agent, stack.graphqlUrl, small, { 'content-length': String(small.length) });
      expect(next.status).toBe(200);
    } finally {
      agent.destroy();
    }
  });

  it('refuses large variables, and replaces an answer over the limit whole', async () => {
    await expectRefused(await post(stack.graphqlUrl, JSON.stringify({ query: operation('HealthTopics'), variables: { search: 'x'.repeat(300_000) } })), 400, ['BAD_REQUEST']);
    const url = await gatewayWith({ maxResponseBytes: 100 });
    const res = await post(`${url}/graphql`, JSON.stringify({ query: operation('SupportContacts') }));
    expect(await res.json()).toEqual({ errors: [{ message: expect.stringMatching(/too large/), extensions: { code: 'RESPONSE_TOO_LARGE' } }] });
  });
});

describe('browsers', () => {
  const preflight = (origin: string) =>
    fetch(stack.graphqlUrl, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
    });

  it('answers a preflight from an allowed origin, echoing it', async () => {
    const res = await preflight(PORTAL_ORIGIN);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(PORTAL_ORIGIN);
    expect(res.headers.get('vary')).toBe('Origin');
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type, authorization, apollo-require-preflight, x-request-id');
    expect(res.headers.get('access-control-max-age')).toBe('600');
    const call = await post(stack.graphqlUrl, JSON.stringify({ query: operation('SupportContacts') }), { origin: PORTAL_ORIGIN });
    expect(call.headers.get('access-control-allow-origin')).toBe(PORTAL_ORIGIN);
  });

  it('gives any other origin no Access-Control-Allow-Origin', async () => {
    const res = await preflight('https://evil.example');
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const call = await post(stack.graphqlUrl, JSON.stringify({ query: operation('SupportContacts') }), { origin: 'https://evil.example' });
    expect(call.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends security headers and no-store on GraphQL and the FHIR download', async () => {
    const graphql = await post(stack.graphqlUrl, JSON.stringify({ query: operation('SupportContacts') }));
    const fhir = await fetch(`${stack.gatewayUrl}/fhir/Patient/$everything`, { headers: { authorization: `Bearer ${jane}` } });
    expect(fhir.status).toBe(200);
    for (const res of [graphql, fhir]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
      // Plain HTTP here: HSTS belongs to answers over TLS only.
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it('keeps Sandbox in development, opening on a sign-in that works and an Authorization header to fill', async () => {
    const page = await fetch(stack.graphqlUrl, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/embeddable-sandbox/);
    const config = JSON.parse(/var embeddedSandboxConfig = (\{.*\});/.exec(html)![1]);
    expect(config.initialState.headers).toEqual({ Authorization: 'Bearer ' });
    expect(config.runTelemetry).toBe(false);
    // What a developer does in Sandbox: run the sign-in as it opens, put the token after "Bearer ", run PortalView.
    const { document, variables } = config.initialState;
    const run = async (operationName: string, headers: Record<string, string>, vars?: Record<string, unknown>) => {
      const res = await fetch(stack.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: document, variables: vars, operationName }) });
      return (await res.json()) as { data: any };
    };
    const token = (await run('SignInWithDsLogon', {}, variables)).data.signInWithDsLogon.accessToken;
    expect(token).toEqual(expect.any(String));
    const view = await run('PortalView', { Authorization: `${config.initialState.headers.Authorization}${token}` });
    expect(view.data.me.patient.name.family).toBe('Doe');
  });
});

describe('the schema', () => {
  const SERVICE = '{ _service { sdl } }';

  it('gives a subgraph’s SDL only to a service token', async () => {
    const url = stack.subgraphs.pharmacy.graphqlUrl;
    expect((await gql(url, SERVICE)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const asPatient = await gql(url, `{ s: _service { sdl } }`, {}, jane);
    expect(asPatient.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(asPatient)).not.toContain('type Prescription');
    const key = await loadSigningKey({ dataDir: stack.dataDir, production: false });
    const service = await mintToken(key, { personId: 'service:ops', accountId: 'service:ops', role: 'SERVICE', method: 'SERVICE' as never, scopes: ['messaging:write'] });
    expect((await gql(url, SERVICE, {}, service)).data._service.sdl).toContain('type Prescription');
  });

  it('names no field in production’s errors, at the gateway and at a subgraph', async () => {
    const typo = '{ supportContact { phone } }';
    expect((await gql(stack.graphqlUrl, typo)).errors?.[0].message).toMatch(/Did you mean "supportContacts"\?/);
    const prod = await gatewayWith({}, true);
    const res = await gql(`${prod}/graphql`, typo);
    expect(res.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0].message).toBe('Cannot query field "supportContact" on type "Query".');
    const identity = buildSubgraphServer(createIdentityModule(), true);
    await identity.start();
    try {
      const direct = await identity.executeOperation({ query: typo }, { contextValue: { audit: { flush: async () => undefined } } as never });
      const errors = direct.body.kind === 'single' ? direct.body.singleResult.errors : undefined;
      expect(errors?.[0].message).toBe('Cannot query field "supportContact" on type "Query".');
    } finally {
      await identity.stop();
    }
  });
});

describe('TRUSTED_DOCUMENTS=1', () => {
  let url: string;
  beforeAll(async () => {
    url = `${await gatewayWith({ trustedDocuments: true })}/graphql`;
  });
  const contacts = buildManifest().operations.find((o) => o.name === 'SupportContacts')!;

  it('answers a contract operation sent as text, or by its hash alone', async () => {
    expect((await gql(url, operation('SupportContacts'))).data.supportContacts).toHaveLength(2);
    const byHash = await post(url, JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: contacts.id } } }));
    expect(((await byHash.json()) as { data: { supportContacts: unknown[] } }).data.supportContacts).toHaveLength(2);
    const portal = await gql(url, operation('PortalView'), {}, jane);
    expect(portal.errors).toBeUndefined();
  });

  it('refuses any other operation with OPERATION_NOT_TRUSTED', async () => {
    await expectRefused(await post(url, JSON.stringify({ query: '{ supportContacts { phone } }' })), 400, ['OPERATION_NOT_TRUSTED']);
    await expectRefused(await post(url, JSON.stringify({ query: doubling(30) })), 400, ['OPERATION_NOT_TRUSTED']);
    await expectRefused(await post(url, JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } })), 400, ['OPERATION_NOT_TRUSTED']);
  });

  it('still serves the record download, which reads through the gateway itself', async () => {
    const res = await fetch(`${url.replace(/\/graphql$/, '')}/fhir/Patient/$everything`, { headers: { authorization: `Bearer ${jane}` } });
    expect(res.status).toBe(200);
  });
});
