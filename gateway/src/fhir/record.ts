/**
 * What the download reads of the signed-in patient's record: one federated
 * query through the gateway, then (only for a list longer than one page) the
 * further pages of that list.
 */
import type { GatewayExecutor } from '../server';

export interface PersonName {
  given: string;
  family: string;
}
export interface PractitionerData {
  id: string;
  name: PersonName;
}
export interface AppointmentData {
  id: string;
  start: string;
  end: string;
  status: string;
  appointmentType: string;
  reason: string | null;
  clinic: { id: string; name: string; phone: string };
  practitioner: PractitionerData;
  cancellation: { reason: string | null; cancelledAt: string } | null;
}
export interface MessageData {
  id: string;
  body: string;
  sentAt: string;
  senderName: string;
  senderRole: string;
}
export interface ThreadData {
  id: string;
  subject: string;
  category: string;
  source: string;
  careTeam: { id: string; name: string };
  messages: MessageData[];
}
export interface PrescriptionData {
  id: string;
  status: string;
  medication: { rxnormCode: string; name: string; strength: string; form: string };
  directions: string;
  quantity: number;
  daysSupply: number;
  refillsAuthorized: number;
  refillsRemaining: number;
  writtenOn: string;
  expiresOn: string;
  prescriber: PractitionerData;
  renewedFrom: { id: string } | null;
  /** Each dispensing, newest first. */
  fills: FillData[];
}
export interface FillData {
  id: string;
  filledOn: string;
  quantity: number;
}
export interface LabResultData {
  id: string;
  testName: string;
  loincCode: string;
  value: string;
  unit: string | null;
  referenceRange: { low: number | null; high: number | null; text: string | null } | null;
  interpretation: string | null;
  status: string;
  source: string;
  collectedAt: string;
  resultedAt: string;
}
export interface VisitNoteData {
  id: string;
  title: string;
  noteType: string;
  status: string;
  source: string;
  authoredAt: string;
  text: string;
  author: PractitionerData;
  appointment: { id: string } | null;
}
export interface ConditionData {
  id: string;
  name: string;
  code: string;
  clinicalStatus: string;
  onsetDate: string | null;
}
export interface AllergyData {
  id: string;
  substance: string;
  snomedCode: string | null;
  reaction: string | null;
  severity: string | null;
}
export interface ImmunizationData {
  id: string;
  vaccine: string;
  cvxCode: string | null;
  occurrenceDate: string;
}
export interface VitalData {
  id: string;
  kind: string;
  value: string;
  unit: string;
  recordedAt: string;
}
export interface PatientData {
  id: string;
  dodId: string;
  name: PersonName;
  dateOfBirth: string;
  affiliations: { organization: string; status: string; startDate: string; endDate: string | null }[];
}

/** Everything the download holds, as the graph answered it. */
export interface PatientRecord {
  patient: PatientData;
  appointments: AppointmentData[];
  threads: ThreadData[];
  prescriptions: PrescriptionData[];
  labResults: LabResultData[];
  visitNotes: VisitNoteData[];
  conditions: ConditionData[];
  allergies: AllergyData[];
  immunizations: ImmunizationData[];
  vitals: VitalData[];
}

/** The graph's largest page: each list is read 100 at a time. */
export const PAGE_SIZE = 100;
/**
 * At most this many pages of one list (10,000 rows), so that one download
 * cannot run without end; a record larger than that is refused, not cut short.
 */
export const MAX_PAGES = 100;

const PRACTITIONER = 'id name { given family }';

/** The paginated lists of Patient, by the key under which PatientRecord holds them. */
const CONNECTIONS = {
  appointments: {
    field: 'appointments',
    args: '',
    node: `id start end status appointmentType reason clinic { id name phone } practitioner { ${PRACTITIONER} } cancellation { reason cancelledAt }`,
  },
  // INBOX holds every thread that is not archived, ARCHIVE the rest: together, all of them.
  inbox: { field: 'messageThreads', args: 'folder: INBOX, ', node: 'id subject category source careTeam { id name } messages { id body sentAt senderName senderRole }' },
  archive: { field: 'messageThreads', args: 'folder: ARCHIVE, ', node: 'id subject category source careTeam { id name } messages { id body sentAt senderName senderRole }' },
  labResults: {
    field: 'labResults',
    args: '',
    node: 'id testName loincCode value unit referenceRange { low high text } interpretation status source collectedAt resultedAt',
  },
  visitNotes: { field: 'visitNotes', args: '', node: `id title noteType status source authoredAt text author { ${PRACTITIONER} } appointment { id }` },
  vitals: { field: 'vitalSigns', args: '', node: 'id kind value unit recordedAt' },
} as const;

type ConnectionKey = keyof typeof CONNECTIONS;

const connection = (key: ConnectionKey, after: boolean) => {
  const c = CONNECTIONS[key];
  return `${key}: ${c.field}(${c.args}first: ${PAGE_SIZE}${after ? ', after: $after' : ''}) { pageInfo { hasNextPage endCursor } edges { node { ${c.node} } } }`;
};

/** The one federated query of the download: the five subgraphs answer their parts of it. */
export const EVERYTHING_QUERY = `query PatientEverything {
  me {
    patient {
      id dodId name { given family } dateOfBirth
      affiliations { organization status startDate endDate }
      ${(Object.keys(CONNECTIONS) as ConnectionKey[]).map((k) => connection(k, false)).join('\n      ')}
      prescriptions {
        id status medication { rxnormCode name strength form }
        directions quantity daysSupply refillsAuthorized refillsRemaining writtenOn expiresOn
        prescriber { ${PRACTITIONER} } renewedFrom { id }
        fills { id filledOn quantity }
      }
      conditions { id name code clinicalStatus onsetDate }
      allergies { id substance snomedCode reaction severity }
      immunizations { id vaccine cvxCode occurrenceDate }
    }
  }
}`;

/** The next page of one list. */
export const pageQuery = (key: ConnectionKey) => `query PatientEverythingPage($after: String!) {
  me { patient { ${connection(key, true)} } }
}`;

interface Page<T> {
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { node: T }[];
}

/** Why a download could not be assembled; `code` is the graph's error code, if it gave one. */
export class RecordUnavailable extends Error {
  constructor(
    readonly reason: 'unauthenticated' | 'not-a-patient' | 'too-large' | 'failed',
    readonly code?: string,
  ) {
    super(reason);
    this.name = 'RecordUnavailable';
  }
}

/** The first error code the graph gave, preferring the ones that say who may not do what. */
function failure(errors: readonly unknown[]): RecordUnavailable {
  const codes = errors.map((e) => (e as { extensions?: { code?: unknown } })?.extensions?.code).filter((c): c is string => typeof c === 'string');
  if (codes.includes('UNAUTHENTICATED')) return new RecordUnavailable('unauthenticated', 'UNAUTHENTICATED');
  if (codes.includes('FORBIDDEN')) return new RecordUnavailable('not-a-patient', 'FORBIDDEN');
  return new RecordUnavailable('failed', codes[0]);
}

/**
 * Reads the whole record of the patient that `authorization` signs in, with
 * that credential, so every subgraph checks and audits the reads as usual.
 * Any error fails the whole download: a record with parts silently missing
 * would look complete to the person reading it.
 */
export async function readPatientRecord(execute: GatewayExecutor, authorization: string): Promise<PatientRecord> {
  const first = await execute(EVERYTHING_QUERY, {}, authorization);
  if (first.errors?.length) throw failure(first.errors);
  const me = (first.data as { me: { patient: Record<string, unknown> | null } | null } | undefined)?.me;
  if (!me) throw new RecordUnavailable('unauthenticated');
  const p = me.patient;
  if (!p) throw new RecordUnavailable('not-a-patient');

  const lists = {} as Record<ConnectionKey, unknown[]>;
  await Promise.all(
    (Object.keys(CONNECTIONS) as ConnectionKey[]).map(async (key) => {
      let page = p[key] as Page<unknown>;
      const nodes = page.edges.map((e) => e.node);
      for (let n = 1; page.pageInfo.hasNextPage; n++) {
        if (n >= MAX_PAGES) throw new RecordUnavailable('too-large');
        const next = await execute(pageQuery(key), { after: page.pageInfo.endCursor }, authorization);
        if (next.errors?.length) throw failure(next.errors);
        const patient = (next.data as { me?: { patient?: Record<string, Page<unknown>> | null } | null } | undefined)?.me?.patient;
        if (!patient) throw new RecordUnavailable('failed');
        page = patient[key];
        nodes.push(...page.edges.map((e) => e.node));
      }
      lists[key] = nodes;
    }),
  );

  return {
    patient: { id: p.id, dodId: p.dodId, name: p.name, dateOfBirth: p.dateOfBirth, affiliations: p.affiliations } as PatientData,
    appointments: lists.appointments as AppointmentData[],
    threads: uniqueById([...lists.inbox, ...lists.archive] as ThreadData[]),
    prescriptions: p.prescriptions as PrescriptionData[],
    labResults: lists.labResults as LabResultData[],
    visitNotes: lists.visitNotes as VisitNoteData[],
    conditions: p.conditions as ConditionData[],
    allergies: p.allergies as AllergyData[],
    immunizations: p.immunizations as ImmunizationData[],
    vitals: lists.vitals as VitalData[],
  };
}

function uniqueById<T extends { id: string }>(rows: T[]): T[] {
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.id) && seen.add(r.id));
}
