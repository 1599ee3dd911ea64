import { policyProblems } from '@portal/kit';
import { policy } from './policy';
import { typeDefs } from './schema';

describe('the clinical-records access policy', () => {
  it('names every route of the schema to health data, only fields that exist, and only entries a service asks', () => {
    expect(policyProblems(typeDefs, policy, __dirname)).toEqual([]);
  });

  it('reads as declared', () => {
    expect(policy.describe()).toContain('Patient.labResults: patient self | proxy with scope RESULTS | care team | scope clinical-records:read; audits lab_result/read');
    expect(policy.describe()).toContain('Patient.visitNotes: patient self | proxy with scope NOTES | care team | scope clinical-records:read; audits visit_note/read');
    expect(policy.describe()).toContain('Patient.conditions: patient self | proxy with scope HEALTH_SUMMARY | care team | scope clinical-records:read; audits condition/read');
  });

  it('names a proxy’s scope in every proxy rule (RESULTS, NOTES, HEALTH_SUMMARY), never the deprecated rule that allows no one', () => {
    const lines = policy.describe();
    expect(lines.filter((l) => l.includes('allows no one'))).toEqual([]);
    const named = new Set(lines.flatMap((l) => [...l.matchAll(/proxy with scope ([A-Z_]+)/g)].map((m) => m[1])));
    expect([...named].sort()).toEqual(['HEALTH_SUMMARY', 'NOTES', 'RESULTS']);
  });
});
