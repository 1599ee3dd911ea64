/**
 * Identity's `Patient.accessLog`: its own audit rows merged with the other
 * subgraphs' (here fakes speaking the kit's `/internal/audit-events`), newest
 * first, paged by one cursor across all of them, actors named, a source that
 * does not answer named and left out while the rest stands.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { execute, startSubgraph, type AccessLogRow, type RunningSubgraph } from '@portal/kit';
import { gql, removeTestDir, testConfig, uniqueDatabaseName } from '@portal/kit/testing';
import { DEMO } from '@portal/demo';
import { createIdentityModule } from './module';
import { seedDemo } from './seed';

const SIGN_IN = `mutation($username: String!, $password: String!) { signInWithDsLogon(input: { username: $username, password: $password }) { accessToken } }`;
const LOG = `query($first: Int, $after: String, $includeOwnReads: Boolean) { me { patient { id accessLog(first: $first, after: $after, includeOwnReads: $includeOwnReads) {
  edges { cursor node { at actor { name role } recordKind action outcome subgraph } }
  pageInfo { hasNextPage endCursor } unavailableSources } } } }`;

const at = (minute: number) => `2026-01-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
const row = (minute: number, subgraph: string, actorPersonId: string | null, actorRole: string, recordKind: string, outcome = 'ALLOWED', action = 'read'): AccessLogRow => ({
  id: randomUUID(),
  occurredAt: at(minute),
  subgraph,
  actorPersonId,
  actorRole,
  recordKind,
  action,
  outcome,
});

/** A subgraph's route as the kit answers it, over a fixed trail; `mode` makes it fail or hang. */
async function fakeSource(rows: AccessLogRow[]) {
  let mode: 'up' | 'failing' | 'hung' = 'up';
  const tokens: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (mode === 'hung') return;
      if (mode === 'failing' || req.url !== '/internal/audit-events') return void res.writeHead(500).end('down');
      tokens.push(String(req.headers.authorization));
      const q = JSON.parse(body) as { limit: number; before: { occurredAt: string; id: string } | null };
      const older = rows
        .filter((r) => !q.before || r.occurredAt < q.before.occurredAt || (r.occurredAt === q.before.occurredAt && r.id < q.before.id))
        .sort((a, b) => (a.occurredAt === b.occurredAt ? (a.id < b.id ? 1 : -1) : a.occurredAt < b.occurredAt ? 1 : -1));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ events: older.slice(0, q.limit) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tokens,
    set: (next: typeof mode) => (mode = next),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let server: RunningSubgraph;
let sources: Awaited<ReturnType<typeof fakeSource>>[];
let jane: string;
const config = testConfig({ identityTimeoutMs: 3_000 });

beforeAll(async () => {
  server = await startSubgraph(createIdentityModule(), { config, databaseName: uniqueDatabaseName('identity') });
  await seedDemo(server.database.dataSource);
  // Identity's own trail: a practitioner read Jane's care teams at 10:05.
  await execute(
    server.database.dataSource,
    `INSERT INTO audit_event (id, occurred_at, request_id, subgraph, actor_account_id, actor_person_id, actor_role, patient_id, record_kind, action, outcome)
     VALUES ($1, $2, 'r1', 'identity', 'ac-alex', $3, 'PRACTITIONER', $4, 'care_team', 'read', 'ALLOWED')`,
    [randomUUID(), at(5), DEMO.alex, DEMO.jane],
  );
  sources = await Promise.all([
    fakeSource([row(2, 'scheduling', DEMO.alex, 'PRACTITIONER', 'appointment'), row(9, 'scheduling', 'service:reports', 'SERVICE', 'appointment')]),
    fakeSource([row(3, 'messaging', DEMO.jane, 'PATIENT', 'message', 'ALLOWED', 'create')]),
    fakeSource([row(7, 'pharmacy', DEMO.sam, 'PHARMACIST', 'prescription'), row(1, 'pharmacy', DEMO.john, 'PATIENT', 'prescription', 'DENIED')]),
    fakeSource([row(8, 'clinical-records', DEMO.morgan, 'PRACTITIONER', 'lab_result', 'DENIED'), row(4, 'clinical-records', DEMO.john, 'PROXY', 'lab_result'), row(6, 'clinical-records', null, 'ANONYMOUS', 'note', 'DENIED')]),
  ]);
  const [scheduling, messaging, pharmacy, clinical] = sources;
  server.runtime.config.pharmacyUrl = pharmacy.url;
  server.runtime.config.auditSourceUrls = { scheduling: scheduling.url, messaging: messaging.url, 'clinical-records': clinical.url };
  jane = (await gql(server.graphqlUrl, SIGN_IN, { username: 'jane.doe', password: 'Demo-Password-1' })).data.signInWithDsLogon.accessToken;
});

afterAll(async () => {
  try {
    await Promise.all((sources ?? []).map((s) => s.close()));
    await server?.close();
    await server?.database.destroyAndDrop();
  } finally {
    removeTestDir(config.dataDir);
  }
});

const log = async (variables: Record<string, unknown> = {}, token = jane) => {
  const res = await gql(server.graphqlUrl, LOG, variables, token);
  expect(res.errors).toBeUndefined();
  return res.data.me.patient.accessLog as {
    edges: { cursor: string; node: { at: string; actor: { name: string | null; role: string }; recordKind: string; action: string; outcome: string; subgraph: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    unavailableSources: string[];
  };
};
const lines = (page: Awaited<ReturnType<typeof log>>) =>
  page.edges.map(({ node: n }) => `${n.at.slice(11, 16)} ${n.subgraph} ${n.actor.role} ${n.actor.name ?? '-'} ${n.recordKind} ${n.action} ${n.outcome}`);

describe('Patient.accessLog', () => {
  it('merges every subgraph’s trail newest first, naming staff, proxies and services, never another patient', async () => {
    const page = await log();
    expect(lines(page)).toEqual([
      '10:09 scheduling SERVICE reports appointment READ ALLOWED',
      '10:08 clinical-records PRACTITIONER Morgan Diaz lab_result READ DENIED',
      '10:07 pharmacy PHARMACIST Sam Lee prescription READ ALLOWED',
      '10:06 clinical-records ANONYMOUS - note READ DENIED',
      '10:05 identity PRACTITIONER Alex Kim care_team READ ALLOWED',
      '10:04 clinical-records PROXY John Roe lab_result READ ALLOWED',
      '10:03 messaging SELF Jane Doe message CREATE ALLOWED',
      '10:02 scheduling PRACTITIONER Alex Kim appointment READ ALLOWED',
      '10:01 pharmacy PATIENT - prescription READ DENIED',
    ]);
    expect(page.unavailableSources).toEqual([]);
    expect(page.pageInfo.hasNextPage).toBe(false);
    // Each source was asked with Jane's own token.
    for (const s of sources) expect(s.tokens.at(-1)).toBe(`Bearer ${jane}`);
  });

  it('pages across the sources with one cursor, no entry twice', async () => {
    const all = lines(await log());
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page = await log({ first: 2, after });
      seen.push(...lines(page));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(all);
  });

  it('shows Jane’s own reads only when asked (her sign-in read her demographics)', async () => {
    expect(lines(await log()).filter((l) => l.includes(' SELF ') && l.includes(' READ '))).toEqual([]);
    const withOwn = lines(await log({ includeOwnReads: true, first: 100 }));
    expect(withOwn.some((l) => /identity SELF Jane Doe demographics READ ALLOWED$/.test(l))).toBe(true);
  });

  it('leaves out a source that fails or hangs, names it, and keeps the rest', async () => {
    const [scheduling, , pharmacy] = sources;
    scheduling.set('failing');
    pharmacy.set('hung');
    try {
      const page = await log();
      expect(page.unavailableSources.sort()).toEqual(['pharmacy', 'scheduling']);
      expect(page.edges.map((e) => e.node.subgraph)).not.toContain('scheduling');
      expect(page.edges.map((e) => e.node.subgraph)).toContain('clinical-records');
    } finally {
      scheduling.set('up');
      pharmacy.set('up');
    }
  });

  it('gives no other patient’s log, and refuses a forged cursor and an oversized page', async () => {
    const res = await gql(server.graphqlUrl, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { accessLog { edges { cursor } } } } }`, {
      r: [{ __typename: 'Patient', id: DEMO.john }],
    }, jane);
    // Another patient's record does not resolve for Jane at all (staff are refused by the gate: test/src/access-log.e2e.test.ts).
    expect([res.errors, res.data._entities]).toEqual([undefined, [null]]);
    const forged = await gql(server.graphqlUrl, LOG, { after: 'not-a-cursor' }, jane);
    expect(forged.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', 'after']]);
    const big = await gql(server.graphqlUrl, LOG, { first: 101 }, jane);
    expect(big.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });
});
