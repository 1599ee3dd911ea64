/**
 * What the download reads of the signed-in patient's record (or of a patient
 * they are a proxy for): one federated query through the gateway, then (only
 * for a list longer than one page) the further pages of that list.
 */
import { Kind, print, type DocumentNode, type FieldNode, type OperationDefinitionNode, type VariableDefinitionNode } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { GatewayExecutor } from '../server';
import {
  PatientAppointmentsPageDocument,
  PatientArchivePageDocument,
  PatientEverythingDocument,
  PatientInboxPageDocument,
  PatientLabResultsPageDocument,
  PatientVisitNotesPageDocument,
  PatientVitalsPageDocument,
  type AllergyFieldsFragment,
  type AppointmentFieldsFragment,
  type ConditionFieldsFragment,
  type ImmunizationFieldsFragment,
  type LabResultFieldsFragment,
  type PageFieldsFragment,
  type PatientFieldsFragment,
  type PractitionerFieldsFragment,
  type PrescriptionFieldsFragment,
  type ThreadFieldsFragment,
  type VisitNoteFieldsFragment,
  type VitalFieldsFragment,
} from './generated/operations';

// The shapes the download works with are those of record.graphql's fragments, as
// GraphQL Code Generator derives them from the supergraph (`npm run codegen`).
export type PersonName = PractitionerFieldsFragment['name'];
export type PractitionerData = PractitionerFieldsFragment;
export type AppointmentData = AppointmentFieldsFragment;
export type MessageData = ThreadFieldsFragment['messages'][number];
export type ThreadData = ThreadFieldsFragment;
export type PrescriptionData = PrescriptionFieldsFragment;
/** Each dispensing of a prescription, newest first. */
export type FillData = PrescriptionFieldsFragment['fills'][number];
export type LabResultData = LabResultFieldsFragment;
export type VisitNoteData = VisitNoteFieldsFragment;
export type ConditionData = ConditionFieldsFragment;
export type AllergyData = AllergyFieldsFragment;
export type ImmunizationData = ImmunizationFieldsFragment;
export type VitalData = VitalFieldsFragment;
export type PatientData = PatientFieldsFragment;

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

/** The query texts sent, printed once from the generated documents. */
const texts = new Map<unknown, string>();
const textOf = (document: TypedDocumentNode<any, any>) => texts.get(document) ?? texts.set(document, print(document)).get(document)!;

/** The one federated query of the download (record.graphql's PatientEverything): the five subgraphs answer their parts of it. */
export const EVERYTHING_QUERY = textOf(PatientEverythingDocument);

interface Page<T> {
  pageInfo: PageFieldsFragment;
  edges: { node: T }[];
}

/** Why a download could not be assembled; `code` is the graph's error code, if it gave one. */
export class RecordUnavailable extends Error {
  constructor(
    /** `not-found`: the patient asked for is not one the viewer may see (themself, or a patient they are a proxy for). */
    readonly reason: 'unauthenticated' | 'not-a-patient' | 'not-found' | 'too-large' | 'failed',
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
 * The same document asked of another patient: `me { patient { ... } }` becomes
 * `patient(id: $patient) { ... }` (identity's `Query.patient`: the viewer
 * themself or a patient they are a proxy for, NOT_FOUND for anyone else), so
 * the fields read stay those of record.graphql whoever the record is of.
 */
export function forPatient(document: DocumentNode): DocumentNode {
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const me = operation?.selectionSet.selections[0];
  const patient = me?.kind === Kind.FIELD && me.name.value === 'me' ? me.selectionSet?.selections[0] : undefined;
  if (!operation || operation.selectionSet.selections.length !== 1 || patient?.kind !== Kind.FIELD || patient.name.value !== 'patient') {
    throw new Error('forPatient: the document must read me { patient { ... } } only');
  }
  const name = (value: string) => ({ kind: Kind.NAME, value }) as const;
  const variable = { kind: Kind.VARIABLE, name: name('patient') } as const;
  const definition: VariableDefinitionNode = { kind: Kind.VARIABLE_DEFINITION, variable, type: { kind: Kind.NON_NULL_TYPE, type: { kind: Kind.NAMED_TYPE, name: name('ID') } } };
  const field: FieldNode = { ...patient, alias: undefined, arguments: [{ kind: Kind.ARGUMENT, name: name('id'), value: variable }] };
  const proxied: OperationDefinitionNode = {
    ...operation,
    name: operation.name && name(`Proxied${operation.name.value}`),
    variableDefinitions: [...(operation.variableDefinitions ?? []), definition],
    selectionSet: { ...operation.selectionSet, selections: [field] },
  };
  return { ...document, definitions: document.definitions.map((d) => (d === operation ? proxied : d)) };
}

const proxiedDocuments = new Map<unknown, DocumentNode>();
const proxiedTextOf = (document: TypedDocumentNode<any, any>) => {
  if (!proxiedDocuments.has(document)) proxiedDocuments.set(document, forPatient(document));
  return textOf(proxiedDocuments.get(document)!);
};

/** The parts of the record a proxy's grant does not cover: the graph refused them (FORBIDDEN) while answering the rest. */
const OPTIONAL_PARTS = new Set(['appointments', 'inbox', 'archive', 'labResults', 'visitNotes', 'vitals', 'prescriptions', 'conditions', 'allergies', 'immunizations']);

/** Who the record is of: the signed-in patient, or (`patientId`) a patient the viewer is a proxy for. */
export interface RecordOf {
  /** Another patient's id; left out (or the viewer's own id) for the viewer's own record. */
  patientId?: string;
}

/**
 * Reads the whole record of the patient that `authorization` signs in (or of
 * `of.patientId`, a patient they are a proxy for), with that credential, so
 * every subgraph checks and audits the reads as usual. For the viewer's own
 * record any error fails the whole download: a record with parts silently
 * missing would look complete to the person reading it. For a proxied record
 * the parts the grant's scopes do not cover (refused FORBIDDEN, each on its
 * own) are left out and the rest is downloaded; the subgraphs have already
 * left out what the grant hides as sensitive. A patient the viewer may not
 * see is `not-found`.
 */
export async function readPatientRecord(execute: GatewayExecutor, authorization: string, of: RecordOf = {}): Promise<PatientRecord> {
  const proxied = of.patientId !== undefined;
  /** The parts refused under the grant (by response name), left out of the download. */
  const refused = new Set<string>();
  /** Runs one generated document: its text, variables and answer are typed together. */
  const run = async <R, V extends Record<string, unknown>>(document: TypedDocumentNode<R, V>, variables: V): Promise<R> => {
    if (!proxied) {
      const res = await execute(textOf(document), variables, authorization);
      if (res.errors?.length) throw failure(res.errors);
      if (res.data == null) throw new RecordUnavailable('failed');
      // The gateway validated and answered this very document: its data has the document's shape.
      return res.data as R;
    }
    const res = await execute(proxiedTextOf(document), { ...variables, patient: of.patientId }, authorization);
    const errors = (res.errors ?? []) as { path?: readonly (string | number)[]; extensions?: { code?: unknown } }[];
    const patient = (res.data as { patient?: unknown } | null | undefined)?.patient;
    if (errors.some((e) => e.extensions?.code === 'NOT_FOUND' && e.path?.length === 1 && e.path[0] === 'patient')) throw new RecordUnavailable('not-found', 'NOT_FOUND');
    const other = errors.filter((e) => {
      const part = e.path?.[1];
      const outOfScope = e.extensions?.code === 'FORBIDDEN' && e.path?.length === 2 && e.path[0] === 'patient' && typeof part === 'string' && OPTIONAL_PARTS.has(part);
      if (outOfScope) refused.add(part);
      return !outOfScope;
    });
    if (other.length) throw failure(other);
    if (res.data == null) throw new RecordUnavailable('failed');
    if (patient == null) throw new RecordUnavailable('not-found');
    // The same shape as the document's own answer, with `patient` where `me.patient` was.
    return { me: { patient } } as R;
  };
  /** Every node of a list: its first page, then the next ones while the graph says there are more; none for a part refused under a proxy's grant. */
  const allOf = async <T>(name: string, first: Page<T> | null | undefined, next: (after: string) => Promise<Page<T> | null | undefined>): Promise<T[]> => {
    let page = first;
    if (!page && refused.has(name)) return [];
    if (!page) throw new RecordUnavailable('failed');
    const nodes = page.edges.map((e) => e.node);
    for (let n = 1; page.pageInfo.hasNextPage; n++) {
      if (n >= MAX_PAGES) throw new RecordUnavailable('too-large');
      if (page.pageInfo.endCursor === null) throw new RecordUnavailable('failed');
      page = await next(page.pageInfo.endCursor);
      if (!page) throw new RecordUnavailable('failed');
      nodes.push(...page.edges.map((e) => e.node));
    }
    return nodes;
  };
  const required = <T>(name: string, list: T[] | null | undefined): T[] => {
    if (!list && refused.has(name)) return [];
    if (!list) throw new RecordUnavailable('failed');
    return list;
  };

  const me = (await run(PatientEverythingDocument, { first: PAGE_SIZE })).me;
  if (!me) throw new RecordUnavailable('unauthenticated');
  const p = me.patient;
  if (!p) throw new RecordUnavailable('not-a-patient');

  const page = { first: PAGE_SIZE };
  const [appointments, inbox, archive, labResults, visitNotes, vitals] = await Promise.all([
    allOf('appointments', p.appointments, async (after) => (await run(PatientAppointmentsPageDocument, { ...page, after })).me?.patient?.appointments),
    allOf('inbox', p.inbox, async (after) => (await run(PatientInboxPageDocument, { ...page, after })).me?.patient?.inbox),
    allOf('archive', p.archive, async (after) => (await run(PatientArchivePageDocument, { ...page, after })).me?.patient?.archive),
    allOf('labResults', p.labResults, async (after) => (await run(PatientLabResultsPageDocument, { ...page, after })).me?.patient?.labResults),
    allOf('visitNotes', p.visitNotes, async (after) => (await run(PatientVisitNotesPageDocument, { ...page, after })).me?.patient?.visitNotes),
    allOf('vitals', p.vitals, async (after) => (await run(PatientVitalsPageDocument, { ...page, after })).me?.patient?.vitals),
  ]);

  return {
    patient: { id: p.id, dodId: p.dodId, name: p.name, dateOfBirth: p.dateOfBirth, affiliations: p.affiliations },
    appointments,
    threads: uniqueById([...inbox, ...archive]),
    prescriptions: required('prescriptions', p.prescriptions),
    labResults,
    visitNotes,
    conditions: required('conditions', p.conditions),
    allergies: required('allergies', p.allergies),
    immunizations: required('immunizations', p.immunizations),
    vitals,
  };
}

function uniqueById<T extends { id: string }>(rows: T[]): T[] {
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.id) && seen.add(r.id));
}
