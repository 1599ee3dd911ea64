import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { seedScalePatient as identityScale } from '@portal/identity';
import { seedScalePatient as schedulingScale } from '@portal/scheduling';
import { seedScalePatient as messagingScale } from '@portal/messaging';
import { seedScalePatient as pharmacyScale } from '@portal/pharmacy';
import { seedScalePatient as clinicalScale } from '@portal/clinical-records';
import { operation, startTestStack, type TestStack } from './harness';

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

/** Statements each subgraph runs for one PortalView. */
async function statementsFor(token: string): Promise<Record<string, number>> {
  for (const s of Object.values(stack.subgraphs)) s.database.counter.count = 0;
  const res = await stack.query(operation('PortalView'), {}, token);
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
