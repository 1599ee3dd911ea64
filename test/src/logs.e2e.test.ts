/**
 * Logs: a full run (sign-ins by password and by card, a failed sign-in, the
 * PortalView, a message, a refill, a renewal decided and told through the
 * outbox, an error) with every log line captured at debug level. Each line of
 * a request carries its request id and trace id, the gateway's id reaches the
 * subgraphs, and nothing of the demo cast, of a message or of a token is in
 * any line.
 */
import { randomUUID } from 'node:crypto';
import { captureLogs, startTracing, type Tracing } from '@portal/kit';
import { DEMO } from '@portal/demo';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@portal/kit/testing';
import { alexToken, operation, startTestStack, type TestStack } from './harness';

const SUBJECT = `Dizziness after the new dose ${randomUUID().slice(0, 8)}`;
const BODY = `I have felt dizzy every morning since Tuesday ${randomUUID().slice(0, 8)}`;
const NOTE = `Nearly out of tablets ${randomUUID().slice(0, 8)}`;
const DECISION = `Renewed for a year ${randomUUID().slice(0, 8)}`;

/** Names, DoD IDs, birth dates, usernames, passwords and drugs of the demo cast. */
const CAST = [
  'Jane', 'Doe', 'John', 'Roe', 'Alex', 'Kim', 'Sam Lee',
  '1000000001', '1000000002', '2000000001', '2000000002',
  'Emma', 'Liam', '1000000003', '1000000004',
  '1990-04-12', '1982-09-03', 'jane.doe', 'john.roe',
  'Demo-Password-1', 'Demo-Password-2', 'Wrong-Password-9',
  'Lisinopril', 'Metformin',
];

let stack: TestStack;
let tracing: Tracing;
let log: ReturnType<typeof captureLogs>;
const quiet = process.env.PORTAL_QUIET;
const tokens: string[] = [];

beforeAll(async () => {
  delete process.env.PORTAL_QUIET;
  tracing = startTracing({ serviceName: 'portal-test', spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] })!;
  log = captureLogs('debug');
  stack = await startTestStack();
});
afterAll(async () => {
  try {
    await stack?.stop();
  } finally {
    log?.restore();
    await tracing?.shutdown();
    if (quiet === undefined) delete process.env.PORTAL_QUIET;
    else process.env.PORTAL_QUIET = quiet;
  }
});

describe('logs of a full run', () => {
  beforeAll(async () => {
    const jane = await stack.signIn('jane.doe', 'Demo-Password-1');
    const alex = await alexToken(stack);
    tokens.push(jane, alex);
    const failed = await stack.query(operation('SignInWithDsLogon'), { username: 'jane.doe', password: 'Wrong-Password-9' });
    expect(failed.errors?.[0].extensions?.code).toBeDefined();
    expect((await stack.query(operation('PortalView'), {}, jane)).errors).toBeUndefined();
    const sent = await stack.query(operation('SendMessage'), { careTeamId: DEMO.careTeamBlue, category: 'GENERAL', subject: SUBJECT, body: BODY, idempotencyKey: `logs-${randomUUID()}` }, jane);
    expect(sent.errors).toBeUndefined();
    const refill = await stack.query(operation('RequestRefill'), { prescriptionId: 'rx-jane-lisinopril', idempotencyKey: `logs-${randomUUID()}` }, jane);
    expect(refill.errors).toBeUndefined();
    const renewal = await stack.query(operation('RequestRenewal'), { prescriptionId: 'rx-jane-metformin', note: NOTE }, jane);
    expect(renewal.errors).toBeUndefined();
    const pending = await stack.query(operation('PendingPharmacyRequests'), { kind: 'RENEWAL' }, await stack.signInWithCard('sam'));
    const request = pending.data.pendingPharmacyRequests.find((r: { prescription: { id: string } }) => r.prescription.id === 'rx-jane-metformin');
    expect(request).toBeDefined();
    const decided = await stack.query(operation('DecideRenewal'), { requestId: request.id, approve: true, refills: 3, daysSupply: 90, note: DECISION }, alex);
    expect(decided.errors).toBeUndefined();
    // Proxy access: Jane's children, and a grant to John and its revocation (each told by secure message, naming both).
    expect((await stack.query(operation('ProxyFor'), {}, jane)).errors).toBeUndefined();
    expect((await stack.query(operation('PatientAsProxy'), { id: DEMO.emma }, jane)).errors).toBeUndefined();
    const endsOn = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    const granted = await stack.query(operation('GrantProxyAccess'), { dodId: '1000000002', scopes: ['APPOINTMENTS'], endsOn }, jane);
    expect(granted.errors).toBeUndefined();
    expect((await stack.query(operation('RevokeProxyAccess'), { id: granted.data.grantProxyAccess.id }, jane)).errors).toBeUndefined();
    // An error answered, a bad variable (graphql-js quotes its value), and a token that is not one.
    await stack.query('{ me { nope } }', {}, jane);
    const bad = await stack.query(operation('SendMessage'), { careTeamId: DEMO.careTeamBlue, category: `${SUBJECT} Jane Doe`, subject: 'S', body: 'B' }, jane);
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    await stack.query(operation('PortalView'), {}, `${jane}x`);
  });

  it('writes one JSON object a line, each request line with its request id, trace id and service', () => {
    const lines = log.lines;
    expect(lines.length).toBeGreaterThan(20);
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThan(10);
    for (const line of requests) {
      expect(line).toMatchObject({ level: 'info', requestId: expect.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/), traceId: expect.stringMatching(/^[0-9a-f]{32}$/), service: expect.any(String) });
      expect(typeof line.time).toBe('string');
    }
    // The gateway's request id is the subgraphs' too: one PortalView, one id in six services.
    const view = requests.find((l) => l.service === 'gateway' && l.operation === 'PortalView' && l.status === 200)!;
    const same = requests.filter((l) => l.requestId === view.requestId);
    expect(new Set(same.map((l) => l.service))).toEqual(new Set(['gateway', 'identity', 'scheduling', 'messaging', 'pharmacy', 'clinical-records']));
    expect(new Set(same.map((l) => l.traceId))).toEqual(new Set([view.traceId]));
    // Errors are counted by code on the request's line.
    expect(requests.some((l) => l.service === 'gateway' && Array.isArray(l.codes) && (l.codes as string[]).includes('UNAUTHENTICATED'))).toBe(true);
  });

  it('holds no name, DoD ID, message subject or body, note, password or token of the run', () => {
    const text = log.text();
    expect(text.length).toBeGreaterThan(5_000);
    const secrets = [...CAST, SUBJECT, BODY, NOTE, DECISION, ...tokens, ...tokens.map((t) => t.split('.')[2])];
    if (process.env.PRINT_LOGS) console.log(text);
    const found = secrets.filter((s) => text.includes(s));
    expect(found).toEqual([]);
  });

  it('redacts credentials and health fields passed to the logger, and tokens in a message', () => {
    const probe = captureLogs('info');
    try {
      const { logger } = require('@portal/kit') as typeof import('@portal/kit');
      logger.warn({ authorization: `Bearer ${tokens[0]}`, password: 'Demo-Password-1', headers: { cookie: 'sid=1' }, patient: { name: 'Jane Doe', dodId: '1000000001' } }, `seen Bearer ${tokens[0]} and ${tokens[1]}`);
      const text = probe.text();
      for (const s of ['Demo-Password-1', 'sid=1', 'Jane Doe', '1000000001', tokens[0], tokens[1]]) expect(text).not.toContain(s);
      expect(probe.lines[0]).toMatchObject({ authorization: '[redacted]', password: '[redacted]', headers: { cookie: '[redacted]' }, patient: { name: '[redacted]', dodId: '[redacted]' } });
    } finally {
      probe.restore();
    }
  });
});
