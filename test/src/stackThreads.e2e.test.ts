/**
 * STACK_THREADS=2 (`npm start` on two cores): the subgraphs in a worker
 * thread, the gateway in this one. The thread reads its settings from the
 * environment as `npm start` does, so this test sets them there (SQLite in a
 * temp DATA_DIR; the PostgreSQL project runs it on SQLite too, once is enough).
 */
import { readConfig } from '@portal/kit';
import { gql, removeTestDir, testTempDir } from '@portal/kit/testing';
import { startThreadedStack } from '@portal/server';
import { DEMO } from '@portal/demo';
import { PortalViewDocument, SignInWithDsLogonDocument } from './generated/operations';
import { textOf } from './harness';

const onSqlite = process.env.PORTAL_TEST_DB === 'postgres' ? describe.skip : describe;

onSqlite('npm start with STACK_THREADS=2', () => {
  const saved = { ...process.env };
  let dataDir: string;

  beforeAll(() => {
    dataDir = testTempDir('portal-stack-threads-');
    Object.assign(process.env, { DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '', REQUEST_ID_SECRET: '', METRICS_PORT: '' });
  });
  afterAll(() => {
    process.env = saved;
    removeTestDir(dataDir);
  });

  it('answers PortalView through the gateway here and the subgraphs in the thread, and stops both', async () => {
    const stack = await startThreadedStack({ config: readConfig(), port: 0, ephemeralPorts: true, seedDemo: true });
    try {
      expect(Object.keys(stack.subgraphUrls).sort()).toEqual(['clinical-records', 'identity', 'messaging', 'pharmacy', 'scheduling']);
      const url = `${stack.gatewayUrl}/graphql`;
      const signedIn = await gql(url, textOf(SignInWithDsLogonDocument), { username: 'jane.doe', password: 'Demo-Password-1' });
      const token = signedIn.data.signInWithDsLogon.accessToken as string;
      const answer = await gql(url, textOf(PortalViewDocument), {}, token);
      expect(answer.errors).toBeUndefined();
      expect(answer.data.me.patient.id).toBe(DEMO.jane);
      expect(answer.data.me.patient.messageThreads.totalCount).toBeGreaterThan(0);
      expect(answer.data.me.patient.prescriptions.length).toBeGreaterThan(0);
    } finally {
      await stack.close();
    }
    // Stopped: nothing answers on the subgraphs' ports any more.
    await expect(fetch(`${stack.subgraphUrls.identity}/health/live`)).rejects.toThrow();
  });

  it('refuses METRICS_PORT, which each thread would serve on its own', async () => {
    await expect(startThreadedStack({ config: { ...readConfig(), metrics: { port: 4999, host: '127.0.0.1' } }, port: 0, ephemeralPorts: true, seedDemo: false })).rejects.toThrow(/STACK_THREADS=2 cannot serve METRICS_PORT/);
  });
});
