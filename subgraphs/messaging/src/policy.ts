import { allOf, anyOf, careTeam, definePolicy, gate, patientSelf, proxyFor, roles, rule, serviceScope, type Access } from '@portal/kit';
import type { ReaderScope } from './db/store';

/**
 * Who may read and write what in messaging: the one place that decides it.
 *
 * Every entry below hands out or changes a patient's messages; services ask
 * this policy (`policy.assert('Query.messageThread', access, thread)`) and
 * never look at roles. Each decision is audited as record kind 'message' with
 * the entry's action. A thread's subject for its rules is
 * `{ patientId, careTeamId, state }`. `src/policy.test.ts` fails for a field
 * that reaches health data past no entry, and for an entry naming no field.
 */

/** A service credential reading messages, and one posting them for a care team. */
const SERVICE_READ = serviceScope('messaging:read');
const SERVICE_WRITE_SCOPE = 'messaging:write';

/** The thread has been sent: an unsent new thread (a DRAFT) is its author's alone, not even their care team sees it. */
const SENT = rule('sent (not a draft)', (_viewer, thread) => thread.state !== 'DRAFT');

/** An unsent new thread the viewer drafted (the patient, or a proxy in the patient's name): subject `ownDraft`. */
const OWN_DRAFT = rule('the viewer’s own draft', (_viewer, thread) => thread.state === 'DRAFT' && thread.ownDraft === true);

/**
 * Someone acting for the patient whose grant covers messages (a parent of a
 * minor, a caregiver the patient named); a thread marked sensitive is refused
 * when the grant hides sensitive records (`threadSubject` says `sensitive`).
 */
const PROXY = proxyFor('MESSAGES');

/** The viewer belongs to the care team (`careTeamId`) now: identity's answer, not the token's snapshot. */
const MEMBER_OF_THE_TEAM = rule('member of the care team', async (_viewer, subject, access) => (await access.careTeamIds()).includes(String(subject.careTeamId)));

/** A practitioner of the thread's care team now. */
const ITS_TEAM_PRACTITIONER = rule('practitioner of the thread’s care team', async (viewer, thread, access) => viewer.role === 'PRACTITIONER' && (await access.careTeamIds()).includes(String(thread.careTeamId)));

/**
 * Who sees a thread, its messages and its read state: once sent, its
 * patient, a proxy in the patient's name, the practitioners of its care team
 * who treat the patient, and a reading service; an unsent new thread (a
 * DRAFT) only whoever drafted it, the patient or their proxy (`ownDraft`). MessageThread.messages, .unread and .draft are
 * decided here, by the entry that handed the thread out: by id
 * (Query.messageThread, a reference, a draft's thread) and in a team's list
 * (CareTeam.threads). A patient's folders (Patient.messageThreads) are the
 * same threads seen from the patient: RECORD_READERS for the patient, and
 * `readerScopeOf` keeps a practitioner to their care teams' sent threads.
 */
const THREAD_READERS = anyOf(allOf(SENT, anyOf(patientSelf, PROXY, allOf(ITS_TEAM_PRACTITIONER, careTeam), SERVICE_READ)), allOf(OWN_DRAFT, anyOf(patientSelf, PROXY)));

/**
 * Who writes in a thread (or changes their own read state of it): its patient,
 * a proxy in the patient's name, or a practitioner of its care team treating them.
 */
const THREAD_WRITERS = anyOf(patientSelf, allOf(SENT, anyOf(PROXY, allOf(ITS_TEAM_PRACTITIONER, careTeam))));

/** Who starts a thread (or drafts one): the patient, or a proxy in the patient's name. */
const THREAD_STARTERS = anyOf(patientSelf, PROXY);

/** Who sees a patient's folders and unread count (a proxy's lists leave out what the grant hides). */
const RECORD_READERS = anyOf(patientSelf, PROXY, careTeam, SERVICE_READ);

/** Only people write in threads: not pharmacists, administrators or services. */
const WRITERS_ONLY = roles(['PATIENT', 'PRACTITIONER'], 'Only a patient and the practitioners of their care team can write in a message thread.');
const PATIENTS_ONLY = roles(['PATIENT'], 'Only a patient can do this.');

/**
 * The patient's care team, for a proxy writing in the patient's name: one the
 * patient already corresponds with (`patientWritesWithTeam`, a sent thread of
 * theirs with it). Identity answers team membership only for the viewer.
 */
const A_TEAM_OF_THE_PATIENT = rule('a care team the patient has a thread with', (_viewer, subject) => subject.patientWritesWithTeam === true);

/**
 * A patient writes only to a care team they belong to now, a proxy only to one
 * the patient corresponds with; the refusal is audited against the patient.
 * Subject `{ patientId, careTeamId, patientWritesWithTeam }`.
 */
const OWN_CARE_TEAM = {
  allow: anyOf(allOf(patientSelf, MEMBER_OF_THE_TEAM), allOf(PROXY, A_TEAM_OF_THE_PATIENT)),
  audit: { kind: 'message', action: 'create', only: 'DENIED' },
  refusal: 'You can write only to a care team you belong to (see careTeams).',
} as const;

const THREAD = 'Message thread';
const DRAFT = 'Message draft';

export const policy = definePolicy({
  healthTypes: ['MessageThread', 'Message', 'MessageDraft', 'MessageThreadConnection', 'MessageThreadEdge'],
  otherTypes: {
    PageInfo: 'where a page ends; its lists are guarded by their parent field',
    Patient: 'identity owns the patient; here only its id and the guarded fields below',
    Practitioner: 'a reference by id only',
    CareTeam: 'identity owns the team; here only its id and its guarded threads',
    ProxyAuthor: 'a reference (proxy id, patient id) on a message already guarded by its thread; the name comes from identity’s ProxyAuthor.__resolveReference',
  },
  openFields: {},
  entries: {
    // One thread by id; another patient's (or an unsent draft of someone else's) reads exactly like a missing one.
    'Query.messageThread': { allow: THREAD_READERS, audit: { kind: 'message', action: 'read' }, hideAs: THREAD },
    'MessageThread.__resolveReference': { allow: THREAD_READERS, audit: { kind: 'message', action: 'read' }, hideAs: THREAD },
    'MessageDraft.thread': { allow: THREAD_READERS, audit: { kind: 'message', action: 'read' }, hideAs: THREAD },
    // A patient's folders (a practitioner's list holds only their care teams' threads: `readerScopeOf`).
    'Patient.messageThreads': { allow: RECORD_READERS, audit: { kind: 'message', action: 'read' } },
    'Patient.unreadMessageCount': { allow: RECORD_READERS, audit: { kind: 'message', action: 'read' } },
    // A team's threads, for its members only; a thread of a patient the member no longer treats is left out (its refusal audited).
    'CareTeam.threads': {
      gate: gate('a practitioner of the team', 'Only members of this care team can read its messages.', async (viewer, facts, access) =>
        viewer.role === 'PRACTITIONER' && (await access.careTeamIds()).includes(String(facts.careTeamId)),
      ),
      allow: THREAD_READERS,
      audit: { kind: 'message', action: 'read' },
    },
    'Mutation.sendMessage': { gate: PATIENTS_ONLY, allow: THREAD_STARTERS, audit: { kind: 'message', action: 'create' } },
    'Mutation.sendMessage#careTeam': OWN_CARE_TEAM,
    'Mutation.replyToThread': { gate: WRITERS_ONLY, allow: THREAD_WRITERS, audit: { kind: 'message', action: 'create' }, hideAs: THREAD },
    'Mutation.markThreadRead': { gate: WRITERS_ONLY, allow: THREAD_WRITERS, audit: { kind: 'message', action: 'update' }, hideAs: THREAD },
    'Mutation.archiveThread': { gate: WRITERS_ONLY, allow: THREAD_WRITERS, audit: { kind: 'message', action: 'update' }, hideAs: THREAD },
    // With a threadId: a reply draft in a thread the viewer may write in; without: a patient's draft of a new thread.
    'Mutation.saveMessageDraft': { gate: WRITERS_ONLY, allow: THREAD_WRITERS, audit: { kind: 'message', action: 'create' }, hideAs: THREAD },
    'Mutation.saveMessageDraft#newThread': { gate: PATIENTS_ONLY, allow: THREAD_STARTERS, audit: { kind: 'message', action: 'create' } },
    'Mutation.saveMessageDraft#careTeam': OWN_CARE_TEAM,
    // A draft is its author's alone: another person's reads exactly like a missing one.
    'Mutation.updateMessageDraft': { gate: WRITERS_ONLY, allow: anyOf(patientSelf, PROXY, careTeam), audit: { kind: 'message', action: 'update' }, hideAs: DRAFT },
    'Mutation.updateMessageDraft#careTeam': OWN_CARE_TEAM,
    'Mutation.deleteMessageDraft': { gate: WRITERS_ONLY, allow: anyOf(patientSelf, PROXY, careTeam), audit: { kind: 'message', action: 'delete' }, hideAs: DRAFT },
    // Sending a reply draft follows replyToThread; a draft of a new thread follows sendMessage; a retried send reads the thread it went to.
    'Mutation.sendMessageDraft': { gate: WRITERS_ONLY, allow: THREAD_WRITERS, audit: { kind: 'message', action: 'create' }, hideAs: THREAD },
    'Mutation.sendMessageDraft#newThread': { gate: PATIENTS_ONLY, allow: THREAD_STARTERS, audit: { kind: 'message', action: 'create' }, hideAs: DRAFT },
    'Mutation.sendMessageDraft#careTeam': OWN_CARE_TEAM,
    'Mutation.sendMessageDraft#retry': { gate: WRITERS_ONLY, allow: THREAD_WRITERS, audit: { kind: 'message', action: 'read' }, hideAs: THREAD },
    // Another service (never a person) posts for a care team; a refusal is audited against the patient named.
    'Mutation.postCareTeamMessage': {
      allow: serviceScope(SERVICE_WRITE_SCOPE),
      audit: { kind: 'message', action: 'create' },
      refusal: `Only a service credential with scope ${SERVICE_WRITE_SCOPE} can post a message for a care team.`,
    },
  },
});

/** An entry of this policy. */
export type MessagingEntry = keyof typeof policy.entries;

/**
 * Whose threads a viewer's folder lists hold, and with which read state: a
 * patient all of their own threads; a practitioner only those of the care
 * teams they are in now (asked of identity, not read from the token); anyone
 * else none.
 */
export async function readerScopeOf(access: Access): Promise<ReaderScope> {
  const viewer = access.viewer;
  if (viewer?.role === 'PATIENT') return { readerId: viewer.personId, teamIds: null };
  if (viewer?.role === 'PRACTITIONER') return { readerId: viewer.personId, teamIds: await access.careTeamIds() };
  return { readerId: viewer?.personId ?? '', teamIds: [] };
}
