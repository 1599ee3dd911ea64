/**
 * What the download reads of the signed-in patient's record: one federated
 * query through the gateway, then (only for a list longer than one page) the
 * further pages of that list.
 */
import { print } from 'graphql';
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
  /** Runs one generated document: its text, variables and answer are typed together. */
  const run = async <R, V extends Record<string, unknown>>(document: TypedDocumentNode<R, V>, variables: V): Promise<R> => {
    const res = await execute(textOf(document), variables, authorization);
    if (res.errors?.length) throw failure(res.errors);
    if (res.data == null) throw new RecordUnavailable('failed');
    // The gateway validated and answered this very document: its data has the document's shape.
    return res.data as R;
  };
  /** Every node of a list: its first page, then the next ones while the graph says there are more. */
  const allOf = async <T>(first: Page<T> | null | undefined, next: (after: string) => Promise<Page<T> | null | undefined>): Promise<T[]> => {
    let page = first;
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
  const required = <T>(list: T[] | null | undefined): T[] => {
    if (!list) throw new RecordUnavailable('failed');
    return list;
  };

  const me = (await run(PatientEverythingDocument, { first: PAGE_SIZE })).me;
  if (!me) throw new RecordUnavailable('unauthenticated');
  const p = me.patient;
  if (!p) throw new RecordUnavailable('not-a-patient');

  const page = { first: PAGE_SIZE };
  const [appointments, inbox, archive, labResults, visitNotes, vitals] = await Promise.all([
    allOf(p.appointments, async (after) => (await run(PatientAppointmentsPageDocument, { ...page, after })).me?.patient?.appointments),
    allOf(p.inbox, async (after) => (await run(PatientInboxPageDocument, { ...page, after })).me?.patient?.inbox),
    allOf(p.archive, async (after) => (await run(PatientArchivePageDocument, { ...page, after })).me?.patient?.archive),
    allOf(p.labResults, async (after) => (await run(PatientLabResultsPageDocument, { ...page, after })).me?.patient?.labResults),
    allOf(p.visitNotes, async (after) => (await run(PatientVisitNotesPageDocument, { ...page, after })).me?.patient?.visitNotes),
    allOf(p.vitals, async (after) => (await run(PatientVitalsPageDocument, { ...page, after })).me?.patient?.vitals),
  ]);

  return {
    patient: { id: p.id, dodId: p.dodId, name: p.name, dateOfBirth: p.dateOfBirth, affiliations: p.affiliations },
    appointments,
    threads: uniqueById([...inbox, ...archive]),
    prescriptions: required(p.prescriptions),
    labResults,
    visitNotes,
    conditions: required(p.conditions),
    allergies: required(p.allergies),
    immunizations: required(p.immunizations),
    vitals,
  };
}

function uniqueById<T extends { id: string }>(rows: T[]): T[] {
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.id) && seen.add(r.id));
}
