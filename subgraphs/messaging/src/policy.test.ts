import { policyCoverageProblems, unaskedPolicyEntries } from '@portal/kit';
import { policy } from './policy';
import { typeDefs } from './schema';

describe('the messaging access policy', () => {
  it('names every field of the schema that reaches health data, and only fields that exist', () => {
    expect(policyCoverageProblems(typeDefs, policy)).toEqual([]);
  });

  it('has no entry that no service asks', () => {
    expect(unaskedPolicyEntries(policy, __dirname)).toEqual([]);
  });

  it('reads as declared', () => {
    expect(policy.describe()).toContain('Patient.messageThreads: patient self | proxy (not built yet: allows no one) | care team | scope messaging:read; audits message/read');
  });
});
