import { policyProblems } from '@portal/kit';
import { policy } from './policy';
import { typeDefs } from './schema';

describe('the scheduling access policy', () => {
  it('names every route of the schema to health data, only fields that exist, and only entries a service asks', () => {
    expect(policyProblems(typeDefs, policy, __dirname)).toEqual([]);
  });

  it('reads as declared', () => {
    expect(policy.describe()).toContain('Patient.appointments: patient self | proxy with scope APPOINTMENTS | care team | scope scheduling:read; audits appointment/read');
    expect(policy.describe()).toContain('Mutation.bookAppointment: [PATIENT] patient self | proxy with scope APPOINTMENTS; audits appointment/create');
    expect(policy.describe()).toContain('Mutation.cancelAppointment: [PATIENT] patient self | proxy with scope APPOINTMENTS; audits appointment/update; refusal reads NOT_FOUND');
  });

  it('names a proxy’s scope in every proxy rule (APPOINTMENTS), never the deprecated rule that allows no one', () => {
    const lines = policy.describe();
    expect(lines.filter((l) => l.includes('allows no one'))).toEqual([]);
    const named = new Set(lines.flatMap((l) => [...l.matchAll(/proxy with scope ([A-Z_]+)/g)].map((m) => m[1])));
    expect([...named].sort()).toEqual(['APPOINTMENTS']);
  });
});
