/**
 * The operations the scale benchmark times and the EXPLAIN test plans, run
 * through a stack (gateway and subgraphs) on a synthetic population, exactly
 * as clients send them (schema/operations/portal.graphql).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { signAccessToken, type PortalConfig, type SigningKey } from '@portal/kit';
import { openSession } from '@portal/identity';
import { patientId, pharmacistId, practitionerAccountId, practitionerId, rng, teamId, teamOf, type Plan } from './population';

const OPERATIONS_DIR = path.join(__dirname, '..', '..', 'schema', 'operations');
// The contract's operations and the project's own (AccessLog), as clients send them.
const OPERATIONS = ['portal.graphql', 'access-log.graphql'].map((f) => fs.readFileSync(path.join(OPERATIONS_DIR, f), 'utf8')).join('\n');

/** One named operation of the client operations, as clients send it. */
export function operation(name: string): string {
  const start = OPERATIONS.search(new RegExp(`^(query|mutation) ${name}\\b`, 'm'));
  if (start < 0) throw new Error(`no operation ${name}`);
  const rest = OPERATIONS.slice(start);
  const end = rest.slice(1).search(/^(query|mutation|#) /m);
  return end < 0 ? rest : rest.slice(0, end + 1);
}

export interface ScaleTarget {
  graphqlUrl: string;
  gatewayUrl: string;
  config: PortalConfig;
  identity: DataSource;
  key: SigningKey;
  plan: Plan;
}

/** A token with a real session, for a synthetic account, as a sign-in would give (no scrypt per patient). */
async function tokenOf(t: ScaleTarget, personId: string, role: 'PATIENT' | 'PRACTITIONER' | 'PHARMACIST', careTeamIds: string[]): Promise<string> {
  const accountId = practitionerAccountId(personId);
  const method = role === 'PATIENT' ? 'DS_LOGON' : 'CAC';
  const session = await openSession(t.config, t.identity, accountId, method);
  return (await signAccessToken(t.key, { accountId, personId, role, method, sessionId: session.id, careTeamIds })).token;
}

export const patientToken = (t: ScaleTarget, i: number) => tokenOf(t, patientId(i), 'PATIENT', [teamId(teamOf(t.plan, i).index)]);

async function post(url: string, query: string, variables: Record<string, unknown>, token: string): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) throw new Error(`${res.status}: ${body.errors.map((e) => e.extensions?.code ?? e.message).join(', ')}`);
  return body.data;
}

export interface Scenario {
  name: string;
  /** What it reads, for the table. */
  detail: string;
  run(): Promise<void>;
}

/** Follows `first`-sized pages of a connection down to about `depth` rows; returns the cursor there. */
async function cursorAt(t: ScaleTarget, op: string, token: string, variables: Record<string, unknown>, pick: (data: any) => any, depth: number): Promise<string | null> {
  let after: string | null = null;
  for (let seen = 0; seen < depth; seen += 100) {
    const conn = pick(await post(t.graphqlUrl, op, { ...variables, first: 100, after }, token));
    if (!conn.pageInfo.hasNextPage) break;
    after = conn.pageInfo.endCursor;
  }
  return after;
}

/**
 * The scenarios, tokens made and deep cursors found beforehand. `patients`
 * random patients (from the seed) take turns in PortalView; patient 0, with
 * the largest record, is paged deep and downloaded.
 */
export async function scaleScenarios(t: ScaleTarget, options: { patients: number; seed: number }): Promise<Scenario[]> {
  const r = rng(options.seed);
  const n = t.plan.patients;
  const portalTokens: string[] = [];
  for (let k = 0; k < Math.min(options.patients, n); k++) portalTokens.push(await patientToken(t, 1 + Math.floor(r() * Math.max(1, n - 1))));
  let turn = 0;
  const largest = await patientToken(t, 0);
  const practitioner = await tokenOf(t, practitionerId(0, 0), 'PRACTITIONER', [teamId(0)]);
  const pharmacist = await tokenOf(t, pharmacistId(0), 'PHARMACIST', []);

  const deep = async (name: string, op: string, variables: Record<string, unknown>, pick: (d: any) => any, depth: number): Promise<Scenario> => {
    const after = await cursorAt(t, op, largest, variables, pick, depth);
    return {
      name,
      detail: `page of 20 after row ${depth} of ${pt0}`,
      run: async () => {
        pick(await post(t.graphqlUrl, op, { ...variables, first: 20, after }, largest));
      },
    };
  };
  const pt0 = patientId(0);
  const from = new Date(Date.now() + 86_400_000);
  const to = new Date(from.getTime() + 30 * 86_400_000);
  const largestTeam = t.plan.teams[0];
  return [
    {
      name: 'PortalView',
      detail: `${portalTokens.length} random patients in turn`,
      run: async () => {
        await post(t.graphqlUrl, operation('PortalView'), {}, portalTokens[turn++ % portalTokens.length]);
      },
    },
    await deep('MyAppointments (deep)', operation('MyAppointments'), {}, (d) => d.me.patient.appointments, 400),
    await deep('MessageThreads (deep)', operation('MessageThreads'), { folder: 'INBOX' }, (d) => d.me.patient.messageThreads, 300),
    await deep('LabResults (deep)', operation('LabResults'), {}, (d) => d.me.patient.labResults, 2000),
    // The access log of patient 0: 25,000 audit rows over five subgraphs, most of them own reads (folded away).
    {
      name: 'AccessLog',
      detail: `first 20 of ${pt0}, own reads folded away`,
      run: async () => {
        await post(t.graphqlUrl, operation('AccessLog'), { first: 20 }, largest);
      },
    },
    await deep('AccessLog (deep)', operation('AccessLog'), {}, (d) => d.me.patient.accessLog, 2000),
    await deep('AccessLog, own reads (deep)', operation('AccessLog'), { includeOwnReads: true }, (d) => d.me.patient.accessLog, 2000),
    {
      name: 'CareTeamInbox',
      detail: `first 20 of team ct-syn-0 (${largestTeam.size} patients)`,
      run: async () => {
        await post(t.graphqlUrl, operation('CareTeamInbox'), { first: 20 }, practitioner);
      },
    },
    {
      name: 'PendingPharmacyRequests',
      detail: 'first page: the oldest 100 of the queue',
      run: async () => {
        await post(t.graphqlUrl, operation('PendingPharmacyRequests'), {}, pharmacist);
      },
    },
    {
      name: 'AvailableSlots',
      detail: 'cl-syn-0, PRIMARY_CARE, 30 days',
      run: async () => {
        await post(t.graphqlUrl, operation('AvailableSlots'), { clinicId: 'cl-syn-0', appointmentType: 'PRIMARY_CARE', from: from.toISOString(), to: to.toISOString() }, portalTokens[0]);
      },
    },
    {
      name: 'FHIR $everything',
      detail: `record of ${pt0}`,
      run: async () => {
        const res = await fetch(`${t.gatewayUrl}/fhir/Patient/$everything`, { headers: { authorization: `Bearer ${largest}`, accept: 'application/fhir+json' } });
        const text = await res.text();
        if (res.status !== 200) throw new Error(`FHIR download: HTTP ${res.status}`);
        if (!text.includes('"Bundle"')) throw new Error('FHIR download: not a Bundle');
      },
    },
  ];
}
