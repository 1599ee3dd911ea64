/**
 * Entity fetch merging (SUBGRAPH_FETCH_MERGING, gateway/src/fetchWaves.ts),
 * end to end: with it, PortalView asks identity twice (its root fields, then
 * the practitioners, prescribers, note authors and care teams of every
 * branch in one request) instead of five times, seven subgraph requests in
 * all instead of ten; and every answer is the one the gateway gives without
 * it, for a patient, a parent reading a child's record with sensitive
 * records hidden, and a practitioner.
 */
import { DEMO } from '@portal/demo';
import { metricsServerPort } from '@portal/kit';
import { alexToken, operation, samToken, startTestStack, type TestStack } from './harness';

const TOKEN = 'merging-e2e-metrics-token-0123456789';
let merging: TestStack;
let plain: TestStack;

beforeAll(async () => {
  merging = await startTestStack({ metrics: { port: 0, host: '127.0.0.1', token: TOKEN } });
  plain = await startTestStack({}, { mergeEntityFetches: false });
});
afterAll(async () => {
  await merging?.stop();
  await plain?.stop();
});

/** The gateway's fetches to each subgraph so far, from its metrics. */
async function fetchesBySubgraph(): Promise<Record<string, number>> {
  const text = await fetch(`http://127.0.0.1:${metricsServerPort()}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.text());
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^portal_gateway_subgraph_fetch_duration_seconds_count\{subgraph="([a-z-]+)",outcome="[a-z_0-9]+"\} (\d+)/.exec(line);
    if (m) counts[m[1]] = (counts[m[1]] ?? 0) + Number(m[2]);
  }
  return counts;
}

/** The answer less what differs between two stacks seeded moments apart: instants (the demo seed places them relative to now). */
function stable(answer: unknown): unknown {
  return JSON.parse(JSON.stringify(answer), (_key, value) => (typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value) ? 'instant' : value));
}

const LIAM = `query($id: ID!) { patient(id: $id) { id name { given family }
  upcomingAppointments(first: 5) { id practitioner { id name { given family } } clinic { name } }
  messageThreads(folder: INBOX, first: 20) { totalCount edges { node { id sensitivity careTeam { id name } } } }
  prescriptions { id prescriber { id name { family } } medication { name education { id title } } }
  labResults(first: 20) { totalCount edges { node { id sensitivity education { id } } } }
  visitNotes(first: 20) { totalCount edges { node { id sensitivity author { id name { family } } } } }
} }`;

it('asks identity twice for PortalView, seven subgraph requests in all', async () => {
  const jane = await merging.signIn('jane.doe', 'Demo-Password-1');
  const before = await fetchesBySubgraph();
  const res = await merging.query(operation('PortalView'), {}, jane);
  expect(res.errors).toBeUndefined();
  const after = await fetchesBySubgraph();
  const delta = Object.fromEntries(Object.keys(after).map((s) => [s, after[s] - (before[s] ?? 0)]));
  expect(delta).toEqual({ identity: 2, scheduling: 1, messaging: 1, pharmacy: 1, 'clinical-records': 2 });
});

it('answers as the gateway does without merging', async () => {
  const cases: [string, (s: TestStack) => Promise<string>, string, Record<string, unknown>][] = [
    ['Jane, PortalView', (s) => s.signIn('jane.doe', 'Demo-Password-1'), operation('PortalView'), {}],
    ['John, PortalView', (s) => s.signIn('john.roe', 'Demo-Password-2'), operation('PortalView'), {}],
    ['Jane reading Liam (15)', (s) => s.signIn('jane.doe', 'Demo-Password-1'), LIAM, { id: DEMO.liam }],
    ['Alex, his care team inbox', alexToken, operation('CareTeamInbox'), { first: 20 }],
    ['Sam, pending renewals', samToken, operation('PendingPharmacyRequests'), {}],
  ];
  for (const [name, tokenOf, query, variables] of cases) {
    const [a, b] = await Promise.all([merging.query(query, variables, await tokenOf(merging)), plain.query(query, variables, await tokenOf(plain))]);
    expect([name, a.errors]).toEqual([name, undefined]);
    expect([name, stable(a.data)]).toEqual([name, stable(b.data)]);
  }
});
