import { policyProblems } from '@portal/kit';
import { policy } from './policy';
import { typeDefs } from './schema';

describe('the messaging access policy', () => {
  it('names every route of the schema to health data, only fields that exist, and only entries a service asks', () => {
    expect(policyProblems(typeDefs, policy, __dirname)).toEqual([]);
  });

  it('reads as declared', () => {
    expect(policy.describe()).toContain('Patient.messageThreads: patient self | proxy with scope MESSAGES | care team | scope messaging:read; audits message/read');
    expect(policy.describe()).toContain('Mutation.sendMessage: [PATIENT] patient self | proxy with scope MESSAGES; audits message/create');
    expect(policy.describe()).toContain('Query.messageThread: sent (not a draft) & (patient self | proxy with scope MESSAGES | practitioner of the thread’s care team & care team | scope messaging:read) | the viewer’s own draft & (patient self | proxy with scope MESSAGES); audits message/read; refusal reads NOT_FOUND');
  });

  it('names a proxy’s scope in every proxy rule (MESSAGES), never the deprecated rule that allows no one', () => {
    const lines = policy.describe();
    expect(lines.filter((l) => l.includes('allows no one'))).toEqual([]);
    const named = new Set(lines.flatMap((l) => [...l.matchAll(/proxy with scope ([A-Z_]+)/g)].map((m) => m[1])));
    expect([...named].sort()).toEqual(['MESSAGES']);
  });
});
