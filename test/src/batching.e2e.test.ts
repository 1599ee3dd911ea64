import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { seedScalePatient as identityScale } from '@portal/identity';
import { seedScalePatient as schedulingScale } from '@portal/scheduling';
import { seedScalePatient as messagingScale } from '@portal/messaging';
import { seedScalePatient as pharmacyScale } from '@portal/pharmacy';
import { seedScalePatient as clinicalScale } from '@portal/clinical-records';
import { HealthSummaryDocument, LabResultsDocument } from './generated/operations';
import { operation, startTestStack, type OperationName, type TestStack } from './harness';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

type Scale = (db: DataSource, s: { patientId: string; count: number }) => Promise<void>;
const SCALERS: Record<string, Scale> = {
  scheduling: schedulingScale,
  messaging: messagingScale,
  pharmacy: pharmacyScale,
  'clinical-records': clinicalScale,
};

async function patientWith(count: number): Promise<string> {
  const suffix = randomBytes(3).toString('hex');
  const patientId = `pt-scale-${count}-${suffix}`;
  const username = `scale.${count}.${suffix}`;
  await identityScale(stack.subgraphs.identity.database.dataSource, { patientId, count, username, password: 'Scale-Password-1' });
  for (const [name, scale] of Object.entries(SCALERS)) {
    await scale(stack.subgraphs[name as keyof typeof stack.subgraphs].database.dataSource, { patientId, count });
  }
  return stack.signIn(username, 'Scale-Password-1');
}

/** Statements each subgraph runs for one operation of the contract (PortalView unless named). */
async function statementsFor(token: string, name: OperationName = 'PortalView', variables: Record<string, unknown> = {}): Promise<Record<string, number>> {
  for (const s of Object.values(stack.subgraphs)) s.database.counter.count = 0;
  const res = await stack.query(operation(name), variables, token);
  expect(res.errors).toBeUndefined();
  return Object.fromEntries(Object.values(stack.subgraphs).map((s) => [s.name, s.database.counter.count]));
}

it('PortalView costs the same number of SQL statements for 3 rows per list as for 200', async () => {
  const few = await patientWith(3);
  const many = await patientWith(200);
  const small = await statementsFor(few);
  const large = await statementsFor(many);
  // Printed for the record (counts only, no data).
  console.info(`PortalView SQL statements per subgraph: 3 rows ${JSON.stringify(small)}; 200 rows ${JSON.stringify(large)}`);
  expect(large).toEqual(small);
  for (const n of Object.values(small)) expect(n).toBeLessThan(20);
});

it('LabResults (with trends and education), VisitNotes and HealthSummary cost the same for 3 rows as for 200', async () => {
  const few = await patientWith(3);
  const many = await patientWith(200);
  const operations: [OperationName, Record<string, unknown>][] = [
    ['LabResults', { first: 100 }],
    ['VisitNotes', { first: 100 }],
    ['HealthSummary', {}],
  ];
  const lines: string[] = [];
  for (const [name, variables] of operations) {
    const small = await statementsFor(few, name, variables);
    const large = await statementsFor(many, name, variables);
    lines.push(`${name}: 3 rows ${small['clinical-records']}, 200 rows ${large['clinical-records']}`);
    expect([name, large]).toEqual([name, small]);
    expect(small['clinical-records']).toBeLessThan(10);
  }
  // The 200-row patient really does have long lists, trends and topics to batch.
  const labs = (await stack.query(LabResultsDocument, { first: 100 }, many)).data?.me?.patient?.labResults;
  const nodes = labs?.edges.map((e) => e.node) ?? [];
  expect(labs?.totalCount).toBe(200);
  expect(nodes).toHaveLength(100);
  expect(nodes[0].history.length).toBeGreaterThan(40);
  expect(nodes.every((n) => n.education.length > 0)).toBe(true);
  const conditions = (await stack.query(HealthSummaryDocument, {}, many)).data?.me?.patient?.conditions ?? [];
  expect(conditions).toHaveLength(200);
  expect(conditions.every((c) => c.education.length > 0)).toBe(true);
  // Printed for the record (counts only, no data).
  console.info(`clinical-records SQL statements per operation: ${lines.join('; ')}`);
});
