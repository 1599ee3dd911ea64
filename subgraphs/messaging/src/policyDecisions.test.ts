import { Access, policyProblems, type AuditTrail, type Subject } from '@portal/kit';
import { accessOf, decisionsOf, DEFAULT_REFUSAL, expectedDecisions, type Expected } from '@portal/kit/testing';
import { policy, readerScopeOf, type MessagingEntry } from './policy';
import { typeDefs } from './schema';

/**
 * Every entry's decision for each viewer of the kit's cast (see kit's
 * policyTesting.ts), for threads of patient pt-1: the patient and pr-1 are on
 * care team ct-1, another patient and pr-2 on ct-2; pr-1 treats pt-1.
 */
const thread = (state: string, careTeamId = 'ct-1'): Subject => ({ patientId: 'pt-1', careTeamId, state });
const SENT = thread('SENT');
const DRAFT = thread('DRAFT');
const OTHER_TEAMS = thread('SENT', 'ct-2');
const TEAM = { patientId: 'pt-1', careTeamId: 'ct-1' };

const PATIENTS = { admits: ['patient', 'another patient'], message: 'Only a patient can do this.' } as const;
const WRITERS = {
  admits: ['patient', 'another patient', 'practitioner', 'another practitioner'],
  message: 'Only a patient and the practitioners of their care team can write in a message thread.',
} as const;
const HIDDEN_THREAD = 'NOT_FOUND: Message thread was not found.';
const HIDDEN_DRAFT = 'NOT_FOUND: Message draft was not found.';
const readers = (audit = 'message/read'): Expected => ({ allows: ['patient', 'practitioner', 'reading service'], audit, refusal: HIDDEN_THREAD });
const writers = (action: string): Expected => ({ gate: WRITERS, allows: ['patient', 'practitioner'], audit: `message/${action}`, refusal: HIDDEN_THREAD });
const ownTeam: Expected = {
  allows: ['patient', 'practitioner'],
  audit: 'message/create',
  refusalsOnly: true,
  refusal: 'FORBIDDEN: You can write only to a care team you belong to (see careTeams).',
};
const patientOnly = (action: string, refusal = DEFAULT_REFUSAL): Expected => ({ gate: PATIENTS, allows: ['patient'], audit: `message/${action}`, refusal });

const entries: [MessagingEntry, Subject, Expected][] = [
  ['Query.messageThread', SENT, readers()],
  // A draft is its patient's alone; a thread of another team than the practitioner's is not theirs.
  ['Query.messageThread', DRAFT, { ...readers(), allows: ['patient'] }],
  ['Query.messageThread', OTHER_TEAMS, { ...readers(), allows: ['patient', 'reading service'] }],
  ['MessageThread.__resolveReference', SENT, readers()],
  ['MessageThread.__resolveReference', DRAFT, { ...readers(), allows: ['patient'] }],
  ['MessageDraft.thread', SENT, readers()],
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
  ['Mutation.sendMessage', { patientId: 'pt-1' }, patientOnly('create')],
  ['Mutation.sendMessage#careTeam', TEAM, ownTeam],
  ['Mutation.replyToThread', SENT, writers('create')],
  ['Mutation.replyToThread', DRAFT, { ...writers('create'), allows: ['patient'] }],
  ['Mutation.replyToThread', OTHER_TEAMS, { ...writers('create'), allows: ['patient'] }],
  ['Mutation.markThreadRead', SENT, writers('update')],
  ['Mutation.archiveThread', SENT, writers('update')],
  ['Mutation.saveMessageDraft', SENT, writers('create')],
  ['Mutation.saveMessageDraft#newThread', { patientId: 'pt-1' }, patientOnly('create')],
  ['Mutation.saveMessageDraft#careTeam', TEAM, ownTeam],
  ['Mutation.updateMessageDraft', { patientId: 'pt-1' }, { ...writers('update'), refusal: HIDDEN_DRAFT }],
  ['Mutation.updateMessageDraft#careTeam', TEAM, ownTeam],
  ['Mutation.deleteMessageDraft', { patientId: 'pt-1' }, { ...writers('delete'), refusal: HIDDEN_DRAFT }],
  ['Mutation.sendMessageDraft', SENT, writers('create')],
  ['Mutation.sendMessageDraft#newThread', { patientId: 'pt-1' }, patientOnly('create', HIDDEN_DRAFT)],
  ['Mutation.sendMessageDraft#careTeam', TEAM, ownTeam],
  ['Mutation.sendMessageDraft#retry', SENT, { ...writers('read') }],
  [
    'Mutation.postCareTeamMessage',
    { patientId: 'pt-1' },
    { allows: ['writing service'], audit: 'message/create', refusal: 'FORBIDDEN: Only a service credential with scope messaging:write can post a message for a care team.' },
  ],
];

describe('the messaging access policy, entry by entry', () => {
  it.each(entries)('%s of %o', async (key, subject, expected) => {
    expect(await decisionsOf(policy, key, subject, 'messaging')).toEqual(expectedDecisions(expected));
  });

  it('reads its own rules by name', () => {
    const lines = policy.describe();
    expect(lines).toContainEqual(expect.stringMatching(/^CareTeam\.threads: \[a practitioner of the team\] patient self \| .* \| sent \(not a draft\) & \(practitioner of the thread’s care team & care team \| scope messaging:read\); audits message\/read$/));
    expect(lines).toContain('Mutation.sendMessage#careTeam: member of the care team; audits message/create (refusals only)');
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
    expect(await readerScopeOf(accessOf('practitioner', 'messaging'))).toEqual({ readerId: 'pr-1', teamIds: ['ct-1'] });
    expect(await readerScopeOf(accessOf('pharmacist', 'messaging'))).toEqual({ readerId: 'ph-1', teamIds: [] });
    expect(await readerScopeOf(accessOf('reading service', 'messaging'))).toEqual({ readerId: 'svc-1', teamIds: [] });
    expect(await readerScopeOf(new Access(null, {} as AuditTrail, async () => new Set()))).toEqual({ readerId: '', teamIds: [] });
  });
});
