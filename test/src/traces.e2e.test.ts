/**
 * Traces: one PortalView through the gateway is one trace, with the gateway's
 * spans, a server span in each of the five subgraphs (their traceparent came
 * from the gateway's fetches) and SQL spans under them; no span attribute
 * holds anything of a patient.
 */
import { SpanKind } from '@opentelemetry/api';
import { startTracing, type Tracing } from '@portal/kit';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@portal/kit/testing';
import { operation, startTestStack, type TestStack } from './harness';

/** What of the demo cast must never be in a span: names, DoD IDs, birth dates, a drug of Jane's list. */
const CAST = ['Jane', 'Doe', 'John', 'Roe', 'Alex', 'Kim', '1000000001', '1000000002', '2000000001', '1990-04-12', 'Demo-Password-1'];

let stack: TestStack;
let tracing: Tracing;
const exporter = new InMemorySpanExporter();

beforeAll(async () => {
  tracing = startTracing({ serviceName: 'portal-test', spanProcessors: [new SimpleSpanProcessor(exporter)] })!;
  stack = await startTestStack();
});
afterAll(async () => {
  try {
    await stack?.stop();
  } finally {
    await tracing?.shutdown();
  }
});

const scopeOf = (s: ReadableSpan) => s.instrumentationScope.name;
const attributesText = (spans: ReadableSpan[]) =>
  JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events.map((e) => ({ name: e.name, attributes: e.attributes })), status: s.status })));

describe('traces', () => {
  it('one PortalView is one trace through the gateway and all five subgraphs, down to their SQL', async () => {
    const jane = await stack.signIn('jane.doe', 'Demo-Password-1');
    exporter.reset();
    const res = await stack.query(operation('PortalView'), {}, jane);
    expect(res.errors).toBeUndefined();
    expect(res.data.me.patient.dodId).toBe('1000000001');
    // The subgraphs answer before the gateway's span ends: by then all are exported.
    const spans = exporter.getFinishedSpans();
    const roots = spans.filter((s) => s.kind === SpanKind.SERVER && scopeOf(s) === '@portal/gateway');
    expect(roots).toHaveLength(1);
    const traceId = roots[0].spanContext().traceId;
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));
    expect(roots[0].parentSpanContext).toBeUndefined();
    expect(roots[0].attributes).toMatchObject({ 'graphql.operation.name': 'PortalView', 'http.response.status_code': 200, 'portal.service': 'gateway' });

    // Apollo's own gateway spans: the plan and one fetch per subgraph call.
    const names = new Set(spans.map((s) => s.name));
    expect([...names]).toEqual(expect.arrayContaining(['gateway.request', 'gateway.plan', 'gateway.execute', 'gateway.fetch']));
    const fetches = spans.filter((s) => s.name === 'gateway.fetch');
    const fetchIds = new Set(fetches.map((s) => s.spanContext().spanId));

    const servers = spans.filter((s) => s.kind === SpanKind.SERVER && scopeOf(s) !== '@portal/gateway');
    const services = new Set(servers.map((s) => s.attributes['portal.service']));
    expect([...services].sort()).toEqual(['clinical-records', 'identity', 'messaging', 'pharmacy', 'scheduling']);
    // One tree: every span but the gateway's request has its parent in the trace. Subgraph requests
    // continue a gateway fetch (its traceparent) or a call a service made to identity (JWKS, sessions).
    const ids = new Set(spans.map((s) => s.spanContext().spanId));
    const serverIds = new Set(servers.map((s) => s.spanContext().spanId));
    for (const span of spans.filter((s) => s !== roots[0])) expect([span.name, ids.has(span.parentSpanContext?.spanId ?? '')]).toEqual([span.name, true]);
    expect(servers.filter((s) => fetchIds.has(s.parentSpanContext!.spanId)).length).toBeGreaterThanOrEqual(5);

    // SQL under each subgraph's request: verb and table, no statement.
    const sql = spans.filter((s) => s.kind === SpanKind.CLIENT && 'db.system.name' in s.attributes);
    expect(new Set(sql.map((s) => s.attributes['db.namespace']))).toEqual(services);
    for (const s of sql) {
      expect(serverIds.has(s.parentSpanContext!.spanId) || sql.some((p) => p.spanContext().spanId === s.parentSpanContext!.spanId)).toBe(true);
      expect(Object.keys(s.attributes).sort()).toEqual(expect.arrayContaining(['db.namespace', 'db.operation.name', 'db.system.name']));
      expect(JSON.stringify(s.attributes)).not.toMatch(/\bWHERE\b|\$1|\?/);
    }
    expect(sql.some((s) => s.name === 'INSERT audit_event')).toBe(true);
  });

  it('puts nothing of the demo cast, a token or a query into any span', async () => {
    exporter.reset();
    const jane = await stack.signIn('jane.doe', 'Demo-Password-1');
    const john = await stack.signIn('john.roe', 'Demo-Password-2');
    await stack.query(operation('PortalView'), {}, jane);
    await stack.query(operation('PortalView'), {}, john);
    // A refusal and a bad document, whose errors are recorded on spans too.
    await stack.query(operation('PortalView'), {}, 'not-a-token');
    await stack.query('{ me { nope } }', {}, jane);
    // Values a client sent in a bad variable are quoted by graphql-js in its error message.
    const bad = await stack.query(operation('SendMessage'), { careTeamId: 'ct-primary-blue', category: 'Jane Doe 1000000001 is dizzy', subject: 'S', body: 'B' }, jane);
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const spans = exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(50);
    const text = attributesText(spans);
    if (process.env.PRINT_SPANS) console.log(text);
    for (const value of [...CAST, jane, john, jane.split('.')[1], 'Bearer']) expect(text).not.toContain(value);
  });

  it('does not continue a traceparent sent by a client to the gateway', async () => {
    exporter.reset();
    const foreign = '0af7651916cd43dd8448eb211c80319c';
    const res = await fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${foreign}-b7ad6b7169203331-01` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(res.status).toBe(200);
    const spans = exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(0);
    expect(spans.every((s) => s.spanContext().traceId !== foreign)).toBe(true);
  });
});
