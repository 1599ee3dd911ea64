import { policyCoverageProblems, unaskedPolicyEntries } from '@portal/kit';
import { policy } from './policy';
import { typeDefs } from './schema';

describe('the identity access policy', () => {
  it('names every field of the schema that reaches health data, and only fields that exist', () => {
    expect(policyCoverageProblems(typeDefs, policy)).toEqual([]);
  });

  it('has no entry that no service asks', () => {
    expect(unaskedPolicyEntries(policy, __dirname)).toEqual([]);
  });

  it('reads as declared', () => {
    expect(policy.describe()).toContain('Patient.careTeams: patient self | proxy (not built yet: allows no one) | care team | scope identity:read; audits care_team/read');
  });
});
