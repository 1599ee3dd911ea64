import { policyProblems } from '@portal/kit';
import { policy } from './policy';
import { SERVICE_SCOPES } from './services/serviceClients';
import { typeDefs } from './schema';

describe('the identity access policy', () => {
  it('names every route of the schema to health data, only fields that exist, and only entries a service asks', () => {
    expect(policyProblems(typeDefs, policy, __dirname)).toEqual([]);
  });

  it('reads as declared', () => {
    expect(policy.describe()).toContain('Patient.careTeams: patient self | proxy with a live grant (any scope) | care team | scope identity:read; audits care_team/read');
    expect(policy.describe()).toContain('Query.patient: [PATIENT] patient self | proxy with a live grant (any scope); audits demographics/read; refusal reads NOT_FOUND');
    expect(policy.describe()).toContain('Mutation.revokeProxyAccess: [PATIENT] patient self; audits proxy_grant/update; refusal reads NOT_FOUND');
  });

  it('gives the access log to the patient themself only, audited', () => {
    expect(policy.describe()).toContain('Patient.accessLog: [PATIENT] patient self; audits access_log/read');
  });
});

describe('the scopes identity grants a service', () => {
  it('are a read and a write scope per subgraph, nothing else', () => {
    expect(SERVICE_SCOPES).toEqual([
      'identity:read',
      'identity:write',
      'scheduling:read',
      'scheduling:write',
      'messaging:read',
      'messaging:write',
      'pharmacy:read',
      'pharmacy:write',
      'clinical-records:read',
      'clinical-records:write',
    ]);
  });
});
