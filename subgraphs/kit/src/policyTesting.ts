/**
 * For each subgraph's policy test: what an entry decides for every member of a
 * small cast of viewers, through the kit's engine and a real `Access` whose
 * answers from identity and pharmacy (who treats whom, care teams, pharmacy
 * cases) are fixed here and whose audit trail is a list.
 *
 * The cast, against patient `pt-1`: the patient (on care team `ct-1`), another
 * patient (`pt-2`, team `ct-2`, no proxy grant), a practitioner treating pt-1
 * (`pr-1`, team `ct-1`), another practitioner (`pr-2`, team `ct-2`, treating no
 * one), a pharmacist with a case for pt-1 (`ph-1`) and one without (`ph-2`), an
 * administrator, three services: with the subgraph's read scope, with its
 * write scope, and with every other subgraph's scopes, and three patients
 * acting for pt-1 through a proxy grant (`Access.proxyGrant`): one covering
 * every scope (`pt-3`), one covering every scope but hiding sensitive records
 * (`pt-4`, a parent of a 13 to 17 year old), and one covering every scope but
 * the subgraph's own (`pt-5`). A subject with `sensitive: true` tells the
 * first two apart; the third tells a `proxyFor(SCOPE)` rule from one that asks
 * only for a live grant.
 */
import { Access, type ProxyGrant } from './access';
import type { AuditTrail } from './audit';
import type { Role, Viewer } from './auth/tokens';
import { PortalError } from './errors';
import type { Policy, Subject } from './policy';

export const CAST = [
  'patient',
  'another patient',
  'practitioner',
  'another practitioner',
  'pharmacist',
  'another pharmacist',
  'admin',
  'reading service',
  'writing service',
  'other service',
  'proxy',
  'proxy hiding sensitive',
  'proxy without the scope',
] as const;
export type CastMember = (typeof CAST)[number];

const SUBGRAPHS = ['identity', 'scheduling', 'messaging', 'pharmacy', 'clinical-records'];

/** The cast's proxies, acting for pt-1. */
export const PROXIES = ['proxy', 'proxy hiding sensitive', 'proxy without the scope'] as const;

/** Identity's `ProxyScope`s, and the ones each subgraph's policy names with `proxyFor` (identity names none: any live grant). */
const PROXY_SCOPES = ['APPOINTMENTS', 'MESSAGES', 'MEDICATIONS', 'RESULTS', 'NOTES', 'HEALTH_SUMMARY'];
const SCOPES_OF: Record<string, string[]> = {
  identity: [],
  scheduling: ['APPOINTMENTS'],
  messaging: ['MESSAGES'],
  pharmacy: ['MEDICATIONS'],
  'clinical-records': ['RESULTS', 'NOTES', 'HEALTH_SUMMARY'],
};

/** The grants identity would answer for each proxy of the cast, by person id, in `subgraph`. */
function grantsOf(subgraph: string): Record<string, Record<string, ProxyGrant>> {
  const own = SCOPES_OF[subgraph] ?? [];
  return {
    'pt-3': { 'pt-1': { scopes: PROXY_SCOPES, hideSensitive: false } },
    'pt-4': { 'pt-1': { scopes: PROXY_SCOPES, hideSensitive: true } },
    'pt-5': { 'pt-1': { scopes: PROXY_SCOPES.filter((s) => !own.includes(s)), hideSensitive: false } },
  };
}

function viewerOf(member: CastMember, subgraph: string): Viewer {
  const person: Record<CastMember, [Role, string, string[], string[]]> = {
    patient: ['PATIENT', 'pt-1', ['ct-1'], []],
    'another patient': ['PATIENT', 'pt-2', ['ct-2'], []],
    practitioner: ['PRACTITIONER', 'pr-1', ['ct-1'], []],
    'another practitioner': ['PRACTITIONER', 'pr-2', ['ct-2'], []],
    pharmacist: ['PHARMACIST', 'ph-1', [], []],
    'another pharmacist': ['PHARMACIST', 'ph-2', [], []],
    admin: ['ADMIN', 'ad-1', [], []],
    'reading service': ['SERVICE', 'svc-1', [], [`${subgraph}:read`]],
    'writing service': ['SERVICE', 'svc-2', [], [`${subgraph}:write`]],
    'other service': ['SERVICE', 'svc-3', [], SUBGRAPHS.filter((s) => s !== subgraph).flatMap((s) => [`${s}:read`, `${s}:write`])],
    proxy: ['PATIENT', 'pt-3', [], []],
    'proxy hiding sensitive': ['PATIENT', 'pt-4', [], []],
    'proxy without the scope': ['PATIENT', 'pt-5', [], []],
  };
  const [role, personId, careTeamIds, scopes] = person[member];
  return {
    accountId: `ac-${personId}`,
    personId,
    role,
    method: role === 'SERVICE' ? 'SERVICE' : 'DS_LOGON',
    sessionId: `s-${personId}`,
    careTeamIds,
    scopes,
    expiresAt: new Date(Date.now() + 60_000),
    token: `token-${personId}`,
  };
}

/** Who treats and who has a pharmacy case for whom, as identity and pharmacy would answer. */
const TREATS: Record<string, string[]> = { 'pr-1': ['pt-1'] };
const CASES: Record<string, string[]> = { 'ph-1': ['pt-1'] };

/**
 * The request's `Access` for `member`; its audit rows (`kind/action OUTCOME`,
 * then ` as PROXY` when the actor's role is written as PROXY) go to `rows`.
 */
export function accessOf(member: CastMember, subgraph: string, rows: string[] = []): Access {
  const trail = {
    record: (_patientId: string, kind: string, action: string, outcome: string, role?: string) => rows.push(`${kind}/${action} ${outcome}${role ? ` as ${role}` : ''}`),
  } as unknown as AuditTrail;
  const grants = grantsOf(subgraph);
  return new Access(
    viewerOf(member, subgraph),
    trail,
    async (viewer, ids) => new Set(ids.filter((id) => TREATS[viewer.personId]?.includes(id))),
    async (viewer) => viewer.careTeamIds,
    async (viewer, ids) => new Set(ids.filter((id) => CASES[viewer.personId]?.includes(id))),
    async (viewer, ids) => new Map(ids.flatMap((id) => (grants[viewer.personId]?.[id] ? [[id, grants[viewer.personId][id]] as const] : []))),
  );
}

/**
 * What `policy.assert(key, …, subject)` does for `member`: `allowed`, or the
 * refusal's code and message, then the audit rows it wrote
 * (`; audited kind/action OUTCOME`).
 */
export async function decisionOf<K extends string>(policy: Policy<K>, key: K, member: CastMember, subject: Subject, subgraph: string): Promise<string> {
  const rows: string[] = [];
  const access = accessOf(member, subgraph, rows);
  let answer: string;
  try {
    await policy.assert(key, access, subject);
    answer = 'allowed';
  } catch (e) {
    if (!(e instanceof PortalError)) throw e;
    answer = `${e.extensions.code}: ${e.message}`;
  }
  return rows.length ? `${answer}; audited ${rows.join(', ')}` : answer;
}

/** What an entry should decide, said once for the whole cast. */
export interface Expected {
  /** Whom the rule allows (among those the gate admits). */
  allows: readonly CastMember[];
  /** The entry's gate: whom it admits and its FORBIDDEN message; unaudited. */
  gate?: { admits: readonly CastMember[]; message: string };
  /** `kind/action`, and whether only refusals are audited; left out for an unaudited entry. */
  audit?: string;
  refusalsOnly?: boolean;
  /** The refusal, e.g. `NOT_FOUND: Prescription was not found.` or `FORBIDDEN: …`. */
  refusal: string;
  /**
   * No proxy's grant for the subject is found (the rule never asks, e.g.
   * `patientSelf` alone, or the subject is not pt-1), so a proxy's audit row
   * names no PROXY role; otherwise it does.
   */
  noProxyGrant?: boolean;
}

/** The answers `decisionOf` gives for each member of the cast when the entry behaves as `expected` says. */
export function expectedDecisions(expected: Expected): Record<CastMember, string> {
  const out = {} as Record<CastMember, string>;
  for (const member of CAST) {
    const as = (PROXIES as readonly string[]).includes(member) && !expected.noProxyGrant ? ' as PROXY' : '';
    if (expected.gate && !expected.gate.admits.includes(member)) out[member] = `FORBIDDEN: ${expected.gate.message}`;
    else if (expected.allows.includes(member)) out[member] = expected.audit && !expected.refusalsOnly ? `allowed; audited ${expected.audit} ALLOWED${as}` : 'allowed';
    else out[member] = expected.audit ? `${expected.refusal}; audited ${expected.audit} DENIED${as}` : expected.refusal;
  }
  return out;
}

/** The answers for the whole cast, for `toEqual(expectedDecisions(…))`. */
export async function decisionsOf<K extends string>(policy: Policy<K>, key: K, subject: Subject, subgraph: string): Promise<Record<CastMember, string>> {
  const out = {} as Record<CastMember, string>;
  for (const member of CAST) out[member] = await decisionOf(policy, key, member, subject, subgraph);
  return out;
}

/** Everyone who is not in `members`. */
export const allBut = (...members: CastMember[]): CastMember[] => CAST.filter((m) => !members.includes(m));

/** The default refusal of an entry that neither hides nor names one. */
export const DEFAULT_REFUSAL = 'FORBIDDEN: You are not allowed to see or change this.';
