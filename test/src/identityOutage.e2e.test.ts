/**
 * Identity down, seen through the gateway: a valid token whose session cannot
 * be checked is SERVICE_UNAVAILABLE (503), never "sign in again" (401).
 */
import { DEMO } from '@portal/demo';
import { operation, startTestStack, type TestStack } from './harness';

let stack: TestStack;
afterAll(() => stack?.stop());

it('answers 503, not 401, for a valid token while identity is down', async () => {
  stack = await startTestStack();
  const seen = await stack.tokenFor({ personId: DEMO.jane, accountId: 'ac-jane-doe' });
  const unseen = await stack.tokenFor({ personId: DEMO.jane, accountId: 'ac-jane-doe' });
  // The gateway and the subgraphs fetch identity's keys and check the first session.
  const before = await stack.query(operation('PortalView'), {}, seen);
  expect(before.errors).toBeUndefined();
  expect(before.data?.me?.account?.id).toBe('ac-jane-doe');

  await stack.subgraphs.identity.close();
  // Same keys, a session nobody has checked yet: the check needs identity, which does not answer.
  const during = await stack.query(operation('PortalView'), {}, unseen);
  expect(during.status).toBe(503);
  expect(during.errors?.map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
  expect(JSON.stringify(during)).not.toMatch(/UNAUTHENTICATED|sign in again|127\.0\.0\.1/i);
});
