import { policyProblems } from '@portal/kit';
import { policy } from './policy';
import { typeDefs } from './schema';

describe('the messaging access policy', () => {
  it('names every route of the schema to health data, only fields that exist, and only entries a service asks', () => {
    expect(policyProblems(typeDefs, policy, __dirname)).toEqual([]);
  });

  it('reads as declared', () => {
    expect(policy.describe()).toContain('Patient.messageThreads: patient self | proxy (not built yet: allows no one) | care team | scope messaging:read; audits message/read');
  });
});
