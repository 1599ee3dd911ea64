import { anyOf, careTeam, definePolicy, gate, patientSelf, pharmacist, roles, rule, serviceScope } from '@portal/kit';

/**
 * Who may see what of identity's records: the one place that decides it.
 *
 * A patient's demographics and care teams are health data: services ask this
 * policy (`policy.check('Patient.__resolveReference', access, patientId)`) and
 * never look at roles; each decision is audited as the entry's kind and
 * action. Sign-in, accounts and cards are credentials, not health data: their
 * rules live in their services and are written to identity's security audit
 * (`services/audit.ts`). `src/policy.test.ts` fails for a field that reaches
 * health data past no entry, and for an entry naming no field.
 */

/** A service credential reading identity's records. */
const SERVICE_READ = serviceScope('identity:read');

/**
 * A proxy of the patient's with a live grant or guardian link, whatever its
 * scopes: identity holds no record of a scope of its own, only the patient's
 * name, birth date and affiliations, which a proxy needs to know whose record
 * they act in. (The other subgraphs name a scope with the kit's `proxyFor`.)
 */
const PROXY_ANY_SCOPE = rule('proxy with a live grant (any scope)', async (viewer, subject, access) => {
  if (viewer.role !== 'PATIENT' || viewer.personId === subject.patientId) return false;
  return (await access.proxyGrant(subject.patientId)) !== null;
});

/** The patient, someone acting for them now, the practitioners treating them, a reading service. */
const CARE_READERS = anyOf(patientSelf, PROXY_ANY_SCOPE, careTeam, SERVICE_READ);

/** Only a patient has a record to share or a proxy relationship. */
const PATIENTS_ONLY = roles(['PATIENT'], 'Only a patient has proxy access.');

/** Care staff, for their own record. */
const STAFF_SELF = rule('the staff member themself', (viewer, subject) => viewer.personId === subject.patientId);

export const policy = definePolicy({
  healthTypes: ['Patient', 'ProxyAuthor', 'Affiliation', 'AccessLogConnection', 'AccessLogEdge', 'AccessLogEntry', 'AccessLogActor'],
  otherTypes: {
    Me: 'the viewer’s own account and session; the patient part is guarded by Me.patient',
    Account: 'the viewer’s own account: username, status, sign-in methods',
    Session: 'the viewer’s own session',
    SignInPayload: 'a token and the account it signs in',
    SmartCardChallenge: 'a random challenge',
    PivCard: 'a card registered to the viewer’s own account',
    SupportContact: 'help desk phone numbers, the same for everyone',
    Practitioner: 'a member of staff: name and specialty (sign-in only)',
    CareTeam: 'a care team’s name (sign-in only); who is in it is guarded by Patient.careTeams',
    PersonName: 'a name; a patient’s is reached only through Patient',
    ProxyAccess: 'the viewer’s own proxy access to a patient (scopes, end); the patient is guarded by Me.proxyFor',
    ProxyGrant: 'a grant the viewer gave: the proxy’s name, scopes and dates, no health data',
    PageInfo: 'where a page ends: a cursor, never a record',
  },
  openFields: {
    'Query.me': 'the viewer’s own account and session (null for a service); its patient part is Me.patient',
    'Query.supportContacts': 'help desk numbers, the same for everyone',
    'Query.smartCardChallenge': 'a random challenge, no sign-in',
    'Mutation.signInWithDsLogon': 'credentials: security-audited in services/signIn.ts',
    'Mutation.signInWithSmartCard': 'credentials: security-audited in services/smartCards.ts',
    'Mutation.signInWithClientCertificate': 'credentials (the TLS handshake’s card certificate): security-audited in services/smartCards.ts',
    'Mutation.createDsLogonAccount': 'credentials: security-audited in services/accounts.ts',
    'Mutation.addDsLogonCredential': 'credentials of the viewer’s own account: security-audited in services/accounts.ts',
    'Mutation.registerPivCard': 'credentials: security-audited in services/smartCards.ts',
    'Mutation.deactivateDsLogonAccount': 'credentials of the viewer’s own account: security-audited in services/accounts.ts',
    'Mutation.signOut': 'ends the viewer’s own session',
  },
  entries: {
    // By id (the router's reference): null, not an error, when refused, so `_entities` cannot tell which ids exist.
    // A pharmacist sees a patient's demographics while the patient has a request pending (or after a look-up).
    'Patient.__resolveReference': { allow: anyOf(CARE_READERS, pharmacist), audit: { kind: 'demographics', action: 'read' } },
    // The signed-in patient's own record; null for anyone else.
    'Me.patient': { gate: roles(['PATIENT'], 'Only a patient has a patient record.'), allow: patientSelf, audit: { kind: 'demographics', action: 'read' } },
    // A proxy's name on a message they wrote in the patient's name: the subject is that patient, so whoever
    // may read the patient's record (their care team included) learns who acts for them, and nothing else
    // of the proxy's record (services/people.ts also asks that the writer is or was the patient's proxy).
    'ProxyAuthor.__resolveReference': { allow: CARE_READERS, audit: { kind: 'proxy_grant', action: 'read' } },
    'Patient.careTeams': { allow: CARE_READERS, audit: { kind: 'care_team', action: 'read' } },
    // Who read the patient's records: the patient's own, not even a proxy's or the care team's business.
    'Patient.accessLog': {
      gate: roles(['PATIENT'], 'Only the patient can read their access log.'),
      allow: patientSelf,
      audit: { kind: 'access_log', action: 'read' },
    },
    // Staff records (not health data): a staff member's own; null for anyone else.
    // The patients the viewer is a proxy for now: each one's name is a demographics read, audited with the role PROXY.
    'Me.proxyFor': { gate: PATIENTS_ONLY, allow: PROXY_ANY_SCOPE, audit: { kind: 'demographics', action: 'read' } },
    // The grants the viewer gave (their own, not health data).
    'Me.proxyGrants': { gate: PATIENTS_ONLY, allow: patientSelf },
    // A patient by id: the viewer's own, or one they are a proxy for; anyone else's reads NOT_FOUND, like an unknown id.
    'Query.patient': {
      gate: roles(['PATIENT'], 'Only a patient can look up a patient by id.'),
      allow: anyOf(patientSelf, PROXY_ANY_SCOPE),
      audit: { kind: 'demographics', action: 'read' },
      hideAs: 'The patient',
    },
    // Sharing one's own record: the grantor is the subject (the age and input rules are services/proxies.ts').
    'Mutation.grantProxyAccess': {
      gate: roles(['PATIENT'], 'Only a patient can grant proxy access.'),
      allow: patientSelf,
      audit: { kind: 'proxy_grant', action: 'create' },
    },
    // Only the grantor ends a grant; anyone else's reads NOT_FOUND.
    'Mutation.revokeProxyAccess': {
      gate: roles(['PATIENT'], 'Only a patient can revoke proxy access.'),
      allow: patientSelf,
      audit: { kind: 'proxy_grant', action: 'update' },
      hideAs: 'The proxy grant',
    },
    'Me.practitioner': { gate: roles(['PRACTITIONER', 'PHARMACIST'], 'Only care staff have a staff record.'), allow: STAFF_SELF },
    'Practitioner.careTeams': {
      gate: gate('the practitioner themself', 'Only the practitioner themself can list their care teams.', (viewer, facts) => viewer.personId === facts.patientId),
      allow: STAFF_SELF,
    },
  },
});
