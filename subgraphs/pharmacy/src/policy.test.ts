import { policyProblems } from '@portal/kit';
import { policy } from './policy';
import { typeDefs } from './schema';

describe('the pharmacy access policy', () => {
  it('names every route of the schema to health data, only fields that exist, and only entries a service asks', () => {
    expect(policyProblems(typeDefs, policy, __dirname)).toEqual([]);
  });

  it('reads as declared', () => {
    expect(policy.describe()).toContain('Patient.prescriptions: patient self | proxy with scope MEDICATIONS | care team | pharmacist with a case | scope pharmacy:read; audits prescription/read');
    expect(policy.describe()).toContain('Mutation.requestRefill: [PATIENT] patient self | proxy with scope MEDICATIONS; audits pharmacy_request/create; refusal reads NOT_FOUND');
  });

  it('names a proxy’s scope in every proxy rule (MEDICATIONS), never the deprecated rule that allows no one', () => {
    const lines = policy.describe();
    expect(lines.filter((l) => l.includes('allows no one'))).toEqual([]);
    const named = new Set(lines.flatMap((l) => [...l.matchAll(/proxy with scope ([A-Z_]+)/g)].map((m) => m[1])));
    expect([...named].sort()).toEqual(['MEDICATIONS']);
  });
});
