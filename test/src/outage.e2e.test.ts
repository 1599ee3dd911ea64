import { operation, startTestStack, type TestStack } from './harness';

let stack: TestStack;
afterAll(() => stack?.stop());

it('masks a subgraph outage: no internal URL reaches the client, and /health says 503', async () => {
  stack = await startTestStack();
  const jane = await stack.signIn('jane.doe', 'Demo-Password-1');
  await stack.subgraphs.messaging.close();
  const res = await stack.query(operation('PortalView'), {}, jane);
  // What other subgraphs answered still arrives; the messaging part fails with a masked error.
  expect(res.data?.me?.account?.id).toBe('ac-jane-doe');
  expect(res.errors?.length).toBeGreaterThan(0);
  const text = JSON.stringify(res.errors);
  expect(text).not.toMatch(/127\.0\.0\.1|localhost|ECONNREFUSED|stacktrace|fetch failed/);
  expect(res.errors?.every((e) => typeof e.extensions?.code === 'string')).toBe(true);
  expect((await fetch(`${stack.gatewayUrl}/health`)).status).toBe(503);
});
