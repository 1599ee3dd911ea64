import type { Access } from './access';
import type { AuditAction } from './audit';
import type { Role, Viewer } from './auth/tokens';
import { forbidden, notFound } from './errors';

/**
 * The declared access policy of a subgraph, and the engine that applies it.
 *
 * Each subgraph writes one `src/policy.ts` that maps every field and operation
 * touching health data (`'Patient.prescriptions'`, `'Mutation.bookAppointment'`,
 * `'VisitNote.__resolveReference'`) to an entry built from the combinators
 * below: who may ask at all (`gate`), who may read or change the patient's
 * record (`allow`), what is audited (`audit`), and how a refusal reads
 * (`hideAs`). Services ask the policy (`policy.assert(key, access, patientId)`)
 * and never look at roles themselves.
 *
 * The kit stays generic: it knows roles and the relationships the request's
 * `Access` can answer (self, care team, pharmacy case, scopes), never a
 * subgraph's record kinds, scopes or field names.
 */

/** What a rule is asked about: the patient whose record it is, and any facts of the record a subgraph's own rule needs. */
export interface Subject {
  patientId: string;
  [fact: string]: unknown;
}

/** One condition on the viewer and the record. Rules compose with `anyOf` / `allOf`. */
export interface Rule {
  /** How the policy reads, e.g. `patient self | care team | scope pharmacy:read`. */
  readonly describe: string;
  allows(viewer: Viewer, subject: Subject, access: Access): boolean | Promise<boolean>;
}

/**
 * Who may ask at all, before any patient's record is looked at: a refusal is
 * FORBIDDEN with `message` and is not audited (no record was touched).
 */
export interface Gate {
  readonly describe: string;
  readonly message: string;
  admits(viewer: Viewer, facts: Record<string, unknown>, access: Access): boolean | Promise<boolean>;
}

export interface PolicyEntry {
  /** Who may ask at all (role-level); checked by `viewer()` and again by `check`/`assert`. */
  gate?: Gate;
  /** Who may read or change this patient's record. */
  allow: Rule;
  /**
   * The audit event each decision writes: record kind and action, outcome
   * ALLOWED or DENIED; with `only: 'DENIED'` just refusals (a pre-check whose
   * allowed case the entry asked next audits). Left out only for an entry
   * that touches no patient's record (e.g. a practitioner's own care teams).
   */
  audit?: { kind: string; action: AuditAction; only?: 'DENIED' };
  /** A refusal reads NOT_FOUND (`<hideAs> was not found.`), like a missing record, so ids cannot be probed. */
  hideAs?: string;
  /** Otherwise a refusal is FORBIDDEN with this message (the default one when left out). */
  refusal?: string;
}

/** A field that needs no entry, and why (reviewed: it returns no one's health data). */
export type OpenFields = Record<string, string>;

/**
 * A subgraph's declared policy. Entry keys are `Type.field` (or
 * `Type.__resolveReference` for a fetch by reference); `Type.field#part` names a
 * second decision the same field makes (e.g. the old and the new slot of a move).
 */
export interface PolicyDeclaration<K extends string> {
  /** Object types whose own fields (in this subgraph) hold a patient's health data. */
  healthTypes: readonly string[];
  /** Every other object type of the subgraph, and why it holds no health data (reviewed). */
  otherTypes: Record<string, string>;
  /** Query/Mutation or entity fields reviewed as returning no health data. */
  openFields: OpenFields;
  entries: Record<K, PolicyEntry>;
}

// ------------------------------------------------------------------ rules

export const rule = (describe: string, allows: Rule['allows']): Rule => ({ describe, allows });

/** The signed-in patient, for their own record. */
export const patientSelf: Rule = rule('patient self', (viewer, subject) => viewer.role === 'PATIENT' && viewer.personId === subject.patientId);

/**
 * Someone acting for the patient (a parent of a minor, a caregiver the patient
 * named), as identity answers it now, whose grant covers `scope` (a name of
 * identity's `ProxyScope`). A record whose subject carries `sensitive: true` is
 * refused when the grant hides sensitive records; lists filter those rows with
 * `access.hidesSensitive(patientId)`.
 */
export const proxyFor = (scope: string): Rule =>
  rule(`proxy with scope ${scope}`, async (viewer, subject, access) => {
    if (viewer.role !== 'PATIENT' || viewer.personId === subject.patientId) return false;
    const grant = await access.proxyGrant(subject.patientId);
    if (!grant || !grant.scopes.includes(scope)) return false;
    return !(grant.hideSensitive && subject.sensitive === true);
  });

/** A practitioner who treats the patient now, as identity answers it. */
export const careTeam: Rule = rule('care team', (viewer, subject, access) => viewer.role === 'PRACTITIONER' && access.treats(subject.patientId));

/** A pharmacist while the patient has a pharmacy request pending, or after an explicit, recorded look-up in this request. */
export const pharmacist: Rule = rule('pharmacist with a case', (viewer, subject, access) => viewer.role === 'PHARMACIST' && access.hasPharmacyCase(subject.patientId));

/** A service credential holding `scope`, for any patient. */
export const serviceScope = (scope: string): Rule => rule(`scope ${scope}`, (viewer) => viewer.role === 'SERVICE' && viewer.scopes.includes(scope));

/** The first rule that allows, in order (later rules are not asked). */
export function anyOf(...rules: Rule[]): Rule {
  return rule(rules.map((r) => r.describe).join(' | '), async (viewer, subject, access) => {
    for (const r of rules) if (await r.allows(viewer, subject, access)) return true;
    return false;
  });
}

/** Every rule, in order (stops at the first that refuses). */
export function allOf(...rules: Rule[]): Rule {
  return rule(rules.map((r) => (r.describe.includes('|') ? `(${r.describe})` : r.describe)).join(' & '), async (viewer, subject, access) => {
    for (const r of rules) if (!(await r.allows(viewer, subject, access))) return false;
    return true;
  });
}

// ------------------------------------------------------------------ gates

export const gate = (describe: string, message: string, admits: Gate['admits']): Gate => ({ describe, message, admits });

/** Only viewers of these roles may ask. */
export const roles = (allowed: readonly Role[], message: string): Gate => gate(allowed.join(' or '), message, (viewer) => allowed.includes(viewer.role));

// ------------------------------------------------------------------ engine

/** A subgraph's policy: its entries and the checks services call. */
export class Policy<K extends string> {
  constructor(readonly declaration: PolicyDeclaration<K>) {}

  get entries(): Record<K, PolicyEntry> {
    return this.declaration.entries;
  }

  /** The signed-in viewer, if the entry's gate admits them: UNAUTHENTICATED without one, FORBIDDEN (not audited) when refused. */
  async viewer(key: K, access: Access, facts: Record<string, unknown> = {}): Promise<Viewer> {
    const viewer = access.requireViewer();
    const { gate } = this.declaration.entries[key];
    if (gate && !(await gate.admits(viewer, facts, access))) throw forbidden(gate.message);
    return viewer;
  }

  /** Whether the entry's gate admits the signed-in viewer (false without one), without throwing: for a field that is null for others. */
  async admits(key: K, access: Access, facts: Record<string, unknown> = {}): Promise<boolean> {
    const viewer = access.viewer;
    if (!viewer) return false;
    const { gate } = this.declaration.entries[key];
    return !gate || gate.admits(viewer, facts, access);
  }

  /** Whether the entry allows the viewer this patient's record, without auditing (e.g. to filter before a read). */
  async may(key: K, access: Access, subject: string | Subject): Promise<boolean> {
    const viewer = access.viewer;
    if (!viewer) return false;
    const entry = this.declaration.entries[key];
    const s = subjectOf(subject);
    if (entry.gate && !(await entry.gate.admits(viewer, s, access))) return false;
    return entry.allow.allows(viewer, s, access);
  }

  /** Decides and audits; returns whether allowed. UNAUTHENTICATED without a viewer; FORBIDDEN (unaudited) when the gate refuses. */
  async check(key: K, access: Access, subject: string | Subject): Promise<boolean> {
    const s = subjectOf(subject);
    const viewer = await this.viewer(key, access, s);
    const entry = this.declaration.entries[key];
    const allowed = await entry.allow.allows(viewer, s, access);
    const { audit } = entry;
    if (audit && (!allowed || audit.only !== 'DENIED')) access.record(s.patientId, audit.kind, audit.action, allowed ? 'ALLOWED' : 'DENIED');
    return allowed;
  }

  /** Decides and audits; a refusal is FORBIDDEN, or NOT_FOUND like a missing record when the entry hides. */
  async assert(key: K, access: Access, subject: string | Subject): Promise<void> {
    if (await this.check(key, access, subject)) return;
    throw this.refusalOf(key);
  }

  /** Audits a refusal decided before the rule could be asked (e.g. the record's thread is not the viewer's), and throws it. */
  refuse(key: K, access: Access, patientId: string): never {
    const { audit } = this.declaration.entries[key];
    if (audit) access.record(patientId, audit.kind, audit.action, 'DENIED');
    throw this.refusalOf(key);
  }

  private refusalOf(key: K) {
    const { hideAs, refusal } = this.declaration.entries[key];
    return hideAs ? notFound(hideAs) : forbidden(refusal);
  }

  /** The policy as text, one line per entry (for reviews and the README). */
  describe(): string[] {
    return (Object.entries(this.declaration.entries) as [string, PolicyEntry][]).map(
      ([key, e]) =>
        `${key}: ${e.gate ? `[${e.gate.describe}] ` : ''}${e.allow.describe}; ${e.audit ? `audits ${e.audit.kind}/${e.audit.action}${e.audit.only ? ' (refusals only)' : ''}` : 'not audited'}${e.hideAs ? '; refusal reads NOT_FOUND' : ''}`,
    );
  }
}

const subjectOf = (subject: string | Subject): Subject => (typeof subject === 'string' ? { patientId: subject } : subject);

export function definePolicy<K extends string>(declaration: PolicyDeclaration<K>): Policy<K> {
  return new Policy(declaration);
}
