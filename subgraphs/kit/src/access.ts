import DataLoader from 'dataloader';
import { injectTraceHeaders } from './tracing';
import type { Viewer } from './auth/tokens';
import type { AuditAction, AuditTrail, RecordKind } from './audit';
import { DEFAULT_IDENTITY_TIMEOUT_MS } from './config';
import { ErrorCode, forbidden, PortalError, unauthenticated } from './errors';

/** Answers which of `patientIds` a practitioner viewer treats (identity owns care teams). */
export type CareAccessCheck = (viewer: Viewer, patientIds: readonly string[]) => Promise<Set<string>>;

/**
 * The care teams a patient or practitioner viewer belongs to now, as identity
 * answers it: asked live, since the token's `teams` claim is a snapshot taken at
 * sign-in that an 8-hour token would keep after someone left a team.
 */
export type CareTeamsCheck = (viewer: Viewer) => Promise<string[]>;

/**
 * Which of `patientIds` have a pharmacy request waiting for staff (pharmacy
 * owns requests): a pharmacist sees a patient's demographics, prescriptions
 * and requests only while one is pending, or after an explicit look-up.
 */
export type PharmacyAccessCheck = (viewer: Viewer, patientIds: readonly string[]) => Promise<Set<string>>;

/** Record kinds a pharmacist may read: prescriptions and requests, not notes or results. */
const PHARMACIST_KINDS: ReadonlySet<RecordKind> = new Set(['demographics', 'prescription', 'pharmacy_request']);

/** Which subgraph's scope covers each record kind; a service credential holds `<subgraph>:read` or `:write`. */
const SCOPE_AREA: Record<RecordKind, string> = {
  demographics: 'identity',
  care_team: 'identity',
  appointment: 'scheduling',
  message: 'messaging',
  prescription: 'pharmacy',
  pharmacy_request: 'pharmacy',
  lab_result: 'clinical-records',
  visit_note: 'clinical-records',
  condition: 'clinical-records',
  allergy: 'clinical-records',
  immunization: 'clinical-records',
  vital: 'clinical-records',
};

/** The scope a SERVICE token needs to do `action` on `kind`: reads need `:read`, changes `:write`. */
export const scopeFor = (kind: RecordKind, action: AuditAction = 'read') => `${SCOPE_AREA[kind]}:${action === 'read' ? 'read' : 'write'}`;

/** Every scope a service credential can be granted. */
export const SERVICE_SCOPES: readonly string[] = [...new Set(Object.values(SCOPE_AREA))].flatMap((area) => [`${area}:read`, `${area}:write`]);

/**
 * The one place that decides whether the viewer may touch a patient's records.
 * Built per request; every decision is audited.
 */
export class Access {
  private readonly careLoader: DataLoader<string, boolean>;
  private readonly pharmacyLoader: DataLoader<string, boolean>;
  private readonly lookedUp = new Set<string>();
  private teams?: Promise<string[]>;

  constructor(
    readonly viewer: Viewer | null,
    private readonly audit: AuditTrail,
    careAccess: CareAccessCheck,
    private readonly careTeams: CareTeamsCheck = async (viewer) => viewer.careTeamIds,
    pharmacyAccess: PharmacyAccessCheck = async () => new Set(),
  ) {
    this.careLoader = new DataLoader(async (ids) => {
      const allowed = await careAccess(this.requireViewer(), ids);
      return ids.map((id) => allowed.has(id));
    });
    this.pharmacyLoader = new DataLoader(async (ids) => {
      const pending = await pharmacyAccess(this.requireViewer(), ids);
      return ids.map((id) => pending.has(id));
    });
  }

  /**
   * A pharmacist's explicit look-up of a patient (pharmacy records who, whom
   * and why): for the rest of this request only, the pharmacist may read what
   * pharmacists read of that patient even with no request pending.
   */
  allowPharmacistLookup(patientId: string): void {
    if (this.requireViewer().role !== 'PHARMACIST') throw forbidden('Only a pharmacist can look a patient up for dispensing.');
    this.lookedUp.add(patientId);
  }

  requireViewer(): Viewer {
    if (!this.viewer) throw unauthenticated();
    return this.viewer;
  }

  /** The signed-in patient's own id, or UNAUTHENTICATED / FORBIDDEN. */
  requirePatient(): string {
    const viewer = this.requireViewer();
    if (viewer.role !== 'PATIENT') throw forbidden('Only a patient can do this.');
    return viewer.personId;
  }

  requireStaff(): Viewer {
    const viewer = this.requireViewer();
    if (viewer.role !== 'PRACTITIONER' && viewer.role !== 'PHARMACIST') throw forbidden('Only care staff can do this.');
    return viewer;
  }

  /** The viewer's care teams as identity knows them now (asked once per request), never the token's snapshot. */
  careTeamIds(): Promise<string[]> {
    const viewer = this.requireViewer();
    if (viewer.role !== 'PATIENT' && viewer.role !== 'PRACTITIONER') return Promise.resolve([]);
    this.teams ??= this.careTeams(viewer);
    return this.teams;
  }

  /** Whether the viewer may read (or change) this kind of record of this patient, without side effects. */
  async may(patientId: string, kind: RecordKind, action: AuditAction = 'read'): Promise<boolean> {
    const viewer = this.viewer;
    if (!viewer) return false;
    switch (viewer.role) {
      case 'PATIENT':
        return viewer.personId === patientId;
      case 'PRACTITIONER':
        return this.careLoader.load(patientId);
      case 'PHARMACIST':
        // Reads only, of a patient with a pending request (or looked up); changes are checked by role in pharmacy.
        if (!PHARMACIST_KINDS.has(kind)) return false;
        return this.lookedUp.has(patientId) || this.pharmacyLoader.load(patientId);
      case 'SERVICE':
        // Another service sees exactly what its credential's scopes name, whichever patient.
        return viewer.scopes.includes(scopeFor(kind, action));
      default:
        return false;
    }
  }

  /** Checks and audits; returns whether allowed. */
  async check(patientId: string, kind: RecordKind, action: AuditAction = 'read'): Promise<boolean> {
    this.requireViewer();
    const allowed = await this.may(patientId, kind, action);
    this.audit.record(patientId, kind, action, allowed ? 'ALLOWED' : 'DENIED');
    return allowed;
  }

  /** Checks and audits; throws FORBIDDEN when denied. */
  async assert(patientId: string, kind: RecordKind, action: AuditAction = 'read'): Promise<void> {
    if (!(await this.check(patientId, kind, action))) throw forbidden();
  }

  /**
   * Like `assert`, but a refusal looks exactly like a missing record, so ids
   * of other patients' records cannot be probed.
   */
  async assertOrNotFound(patientId: string, kind: RecordKind, what: string, action: AuditAction = 'read'): Promise<void> {
    if (!(await this.check(patientId, kind, action))) throw new PortalError(ErrorCode.NOT_FOUND, `${what} was not found.`);
  }
}

/** Asks identity's care-access route, with the viewer's own token. */
const accessUnavailable = () => new PortalError(ErrorCode.SERVICE_UNAVAILABLE, 'Access to this record could not be checked right now. Try again shortly.');

/**
 * POSTs an access question with the viewer's own token. No answer within
 * `timeoutMs`, an error status or a body that is not JSON is SERVICE_UNAVAILABLE:
 * the question could not be asked, which says nothing against the viewer.
 */
async function askInternal(url: string, viewer: Viewer, question: object, timeoutMs: number): Promise<Record<string, unknown>> {
  const signal = AbortSignal.timeout(timeoutMs);
  const res = await fetch(url, {
    method: 'POST',
    headers: injectTraceHeaders({ 'content-type': 'application/json', authorization: `Bearer ${viewer.token}` }),
    body: JSON.stringify(question),
    signal,
  }).catch(() => null);
  if (!res || !res.ok) throw accessUnavailable();
  // The signal bounds the body too: a server that sends headers and then hangs is no answer.
  const body = await res.json().catch(() => null);
  if (!body || typeof body !== 'object') throw accessUnavailable();
  return body as Record<string, unknown>;
}

/** Asks identity's care-access route, with the viewer's own token. */
const askCareAccess = (identityUrl: string, viewer: Viewer, question: { patientIds: readonly string[]; careTeams?: boolean }, timeoutMs: number) =>
  askInternal(`${identityUrl}/internal/care-access`, viewer, question, timeoutMs);

/** Asks identity which patients a practitioner treats, with the viewer's own token. */
export function remoteCareAccess(identityUrl: string, timeoutMs = DEFAULT_IDENTITY_TIMEOUT_MS): CareAccessCheck {
  return async (viewer, patientIds) => {
    const body = await askCareAccess(identityUrl, viewer, { patientIds }, timeoutMs);
    return new Set(Array.isArray(body.allowed) ? body.allowed.map(String) : []);
  };
}

/** Asks pharmacy which patients have a pending request, with the pharmacist's own token; `url()` is read at each call. */
export function remotePharmacyAccess(url: () => string | undefined, timeoutMs = DEFAULT_IDENTITY_TIMEOUT_MS): PharmacyAccessCheck {
  return async (viewer, patientIds) => {
    const base = url();
    if (!base) return new Set();
    const body = await askInternal(`${base}/internal/pharmacy-access`, viewer, { patientIds }, timeoutMs);
    return new Set(Array.isArray(body.pending) ? body.pending.map(String) : []);
  };
}

/** Asks identity which care teams the viewer belongs to now, with the viewer's own token. */
export function remoteCareTeams(identityUrl: string, timeoutMs = DEFAULT_IDENTITY_TIMEOUT_MS): CareTeamsCheck {
  return async (viewer) => {
    const body = await askCareAccess(identityUrl, viewer, { patientIds: [], careTeams: true }, timeoutMs);
    return Array.isArray(body.careTeamIds) ? body.careTeamIds.map(String) : [];
  };
}
