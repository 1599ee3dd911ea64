import { Access, policyProblems, type AuditTrail, type Subject } from '@portal/kit';
import { accessOf, decisionsOf, DEFAULT_REFUSAL, expectedDecisions, PROXIES, type Expected } from '@portal/kit/testing';
import { policy, readerScopeOf, type MessagingEntry } from './policy';
import { typeDefs } from './schema';

/**
 * Every entry's decision for each viewer of the kit's cast (see kit's
 * policyTesting.ts), for threads of patient pt-1: the patient and pr-1 are on
 * care team ct-1, another patient and pr-2 on ct-2; pr-1 treats pt-1. A proxy
 * of pt-1's reads and writes with a grant covering MESSAGES, not without it; a
 * thread marked sensitive (`sensitive`) is refused to a proxy whose grant hides
 * sensitive records. An unsent new thread (a DRAFT) is seen only by whoever
 * drafted it: the service gives the subject `ownDraft` (the viewer has a draft
 * in it), and then only the patient or a proxy may see it.
 */
const thread = (state: string, careTeamId = 'ct-1', facts: Record<string, unknown> = {}): Subject => ({ patientId: 'pt-1', careTeamId, state, ...facts });
const SENT = thread('SENT');
const SENSITIVE = thread('SENT', 'ct-1', { sensitive: true });
const OWN_DRAFT = thread('DRAFT', 'ct-1', { ownDraft: true });
const OWN_SENSITIVE_DRAFT = thread('DRAFT', 'ct-1', { ownDraft: true, sensitive: true });
const SOMEONE_ELSES_DRAFT = thread('DRAFT', 'ct-1', { ownDraft: false });
const OTHER_TEAMS = thread('SENT', 'ct-2');
const TEAM = { patientId: 'pt-1', careTeamId: 'ct-1' };
/** A team the patient already has a sent thread with (`patientWritesWithTeam`, asked by the service for a proxy only). */
const PATIENTS_TEAM = { patientId: 'pt-1', careTeamId: 'ct-1', patientWritesWithTeam: true };
const NOT_THE_PATIENTS_TEAM = { patientId: 'pt-1', careTeamId: 'ct-2', patientWritesWithTeam: false };

const WITH_SCOPE = ['proxy', 'proxy hiding sensitive'] as const;
const PATIENTS = { admits: ['patient', 'another patient', ...PROXIES], message: 'Only a patient can do this.' } as const;
const WRITERS = {
  admits: ['patient', 'another patient', 'practitioner', 'another practitioner', ...PROXIES],
  message: 'Only a patient and the practitioners of their care team can write in a message thread.',
} as const;
const HIDDEN_THREAD = 'NOT_FOUND: Message thread was not found.';
const HIDDEN_DRAFT = 'NOT_FOUND: Message draft was not found.';
const readers = (audit = 'message/read'): Expected => ({ allows: ['patient', ...WITH_SCOPE, 'practitioner', 'reading service'], audit, refusal: HIDDEN_THREAD });
const writers = (action: string): Expected => ({ gate: WRITERS, allows: ['patient', ...WITH_SCOPE, 'practitioner'], audit: `message/${action}`, refusal: HIDDEN_THREAD });
const ownTeam: Expected = {
  allows: ['patient'],
  audit: 'message/create',
  refusalsOnly: true,
  refusal: 'FORBIDDEN: You can write only to a care team you belong to (see careTeams).',
};
const patientOrProxy = (action: string, refusal = DEFAULT_REFUSAL): Expected => ({ gate: PATIENTS, allows: ['patient', ...WITH_SCOPE], audit: `message/${action}`, refusal });

const entries: [MessagingEntry, Subject, Expected][] = [
  ['Query.messageThread', SENT, readers()],
  ['Query.messageThread', SENSITIVE, { ...readers(), allows: ['patient', 'proxy', 'practitioner', 'reading service'] }],
  // A draft is its drafter's alone (the patient or a proxy): not even the care team sees it, nor anyone it is not the draft of.
  ['Query.messageThread', OWN_DRAFT, { ...readers(), allows: ['patient', ...WITH_SCOPE] }],
  ['Query.messageThread', OWN_SENSITIVE_DRAFT, { ...readers(), allows: ['patient', 'proxy'] }],
  ['Query.messageThread', SOMEONE_ELSES_DRAFT, { ...readers(), allows: [], noProxyGrant: true }],
  // A thread of another team than the practitioner's is not theirs.
  ['Query.messageThread', OTHER_TEAMS, { ...readers(), allows: ['patient', ...WITH_SCOPE, 'reading service'] }],
  ['MessageThread.__resolveReference', SENT, readers()],
  ['MessageThread.__resolveReference', SENSITIVE, { ...readers(), allows: ['patient', 'proxy', 'practitioner', 'reading service'] }],
  ['MessageThread.__resolveReference', OWN_DRAFT, { ...readers(), allows: ['patient', ...WITH_SCOPE] }],
  ['MessageThread.__resolveReference', SOMEONE_ELSES_DRAFT, { ...readers(), allows: [], noProxyGrant: true }],
  ['MessageDraft.thread', SENT, readers()],
  ['MessageDraft.thread', OWN_DRAFT, { ...readers(), allows: ['patient', ...WITH_SCOPE] }],
  // Lists: a proxy whose grant hides sensitive records sees the folders with those threads left out (in SQL).
  ['Patient.messageThreads', { patientId: 'pt-1' }, { ...readers(), refusal: DEFAULT_REFUSAL }],
  ['Patient.unreadMessageCount', { patientId: 'pt-1' }, { ...readers(), refusal: DEFAULT_REFUSAL }],
  [
    'CareTeam.threads',
    SENT,
    { gate: { admits: ['practitioner'], message: 'Only members of this care team can read its messages.' }, allows: ['practitioner'], audit: 'message/read', refusal: DEFAULT_REFUSAL },
  ],
  [
    'CareTeam.threads',
    OTHER_TEAMS,
    { gate: { admits: ['another practitioner'], message: 'Only members of this care team can read its messages.' }, allows: [], audit: 'message/read', refusal: DEFAULT_REFUSAL },
  ],
  ['Mutation.sendMessage', { patientId: 'pt-1' }, patientOrProxy('create')],
  // The patient writes to a team they belong to now; a proxy to one the patient already has a thread with.
  // Only patients and proxies get here (sendMessage and new-thread drafts are theirs): a practitioner's reply is THREAD_WRITERS'.
  ['Mutation.sendMessage#careTeam', TEAM, ownTeam],
  ['Mutation.sendMessage#careTeam', PATIENTS_TEAM, { ...ownTeam, allows: ['patient', ...WITH_SCOPE] }],
  ['Mutation.sendMessage#careTeam', NOT_THE_PATIENTS_TEAM, { ...ownTeam, allows: [] }],
  ['Mutation.replyToThread', SENT, writers('create')],
  ['Mutation.replyToThread', SENSITIVE, { ...writers('create'), allows: ['patient', 'proxy', 'practitioner'] }],
  ['Mutation.replyToThread', OWN_DRAFT, { ...writers('create'), allows: ['patient'], noProxyGrant: true }],
  ['Mutation.replyToThread', OTHER_TEAMS, { ...writers('create'), allows: ['patient', ...WITH_SCOPE] }],
  ['Mutation.markThreadRead', SENT, writers('update')],
  ['Mutation.archiveThread', SENT, writers('update')],
  ['Mutation.saveMessageDraft', SENT, writers('create')],
  ['Mutation.saveMessageDraft#newThread', { patientId: 'pt-1' }, patientOrProxy('create')],
  ['Mutation.saveMessageDraft#careTeam', TEAM, ownTeam],
  ['Mutation.saveMessageDraft#careTeam', PATIENTS_TEAM, { ...ownTeam, allows: ['patient', ...WITH_SCOPE] }],
  ['Mutation.updateMessageDraft', { patientId: 'pt-1' }, { ...writers('update'), refusal: HIDDEN_DRAFT }],
  ['Mutation.updateMessageDraft#careTeam', TEAM, ownTeam],
  ['Mutation.updateMessageDraft#careTeam', PATIENTS_TEAM, { ...ownTeam, allows: ['patient', ...WITH_SCOPE] }],
  ['Mutation.deleteMessageDraft', { patientId: 'pt-1' }, { ...writers('delete'), refusal: HIDDEN_DRAFT }],
  ['Mutation.sendMessageDraft', SENT, writers('create')],
  ['Mutation.sendMessageDraft#newThread', { patientId: 'pt-1' }, patientOrProxy('create', HIDDEN_DRAFT)],
  ['Mutation.sendMessageDraft#careTeam', TEAM, ownTeam],
  ['Mutation.sendMessageDraft#careTeam', PATIENTS_TEAM, { ...ownTeam, allows: ['patient', ...WITH_SCOPE] }],
  ['Mutation.sendMessageDraft#retry', SENT, { ...writers('read') }],
  [
    'Mutation.postCareTeamMessage',
    { patientId: 'pt-1' },
    { allows: ['writing service'], audit: 'message/create', refusal: 'FORBIDDEN: Only a service credential with scope messaging:write can post a message for a care team.', noProxyGrant: true },
  ],
];

describe('the messaging access policy, entry by entry', () => {
  it.each(entries)('%s of %o', async (key, subject, expected) => {
    expect(await decisionsOf(policy, key, subject, 'messaging')).toEqual(expectedDecisions(expected));
  });

  it('reads its own rules by name', () => {
    const lines = policy.describe();
    expect(lines).toContain(
      'CareTeam.threads: [a practitioner of the team] sent (not a draft) & (patient self | proxy with scope MESSAGES | practitioner of the thread’s care team & care team | scope messaging:read) | the viewer’s own draft & (patient self | proxy with scope MESSAGES); audits message/read',
    );
    expect(lines).toContain(
      'Mutation.sendMessage#careTeam: patient self & member of the care team | proxy with scope MESSAGES & a care team the patient has a thread with; audits message/create (refusals only)',
    );
  });

  it('names every route of the schema to health data, with a reason for each type and field it leaves open (as policy.test.ts)', () => {
    expect(policyProblems(typeDefs, policy, __dirname)).toEqual([]);
  });

  it('has a case above for every entry', () => {
    expect([...new Set(entries.map(([key]) => key))].sort()).toEqual(Object.keys(policy.entries).sort());
  });
});

describe('readerScopeOf', () => {
  it('gives a patient all of their own threads, a practitioner their care teams’ now, anyone else none', async () => {
    expect(await readerScopeOf(accessOf('patient', 'messaging'))).toEqual({ readerId: 'pt-1', teamIds: null });
    expect(await readerScopeOf(accessOf('proxy', 'messaging'))).toEqual({ readerId: 'pt-3', teamIds: null });
    expect(await readerScopeOf(accessOf('practitioner', 'messaging'))).toEqual({ readerId: 'pr-1', teamIds: ['ct-1'] });
    expect(await readerScopeOf(accessOf('pharmacist', 'messaging'))).toEqual({ readerId: 'ph-1', teamIds: [] });
    expect(await readerScopeOf(accessOf('reading service', 'messaging'))).toEqual({ readerId: 'svc-1', teamIds: [] });
    expect(await readerScopeOf(new Access(null, {} as AuditTrail, async () => new Set()))).toEqual({ readerId: '', teamIds: [] });
  });
});
