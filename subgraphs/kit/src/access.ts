import DataLoader from 'dataloader';
import { injectTraceHeaders } from './tracing';
import type { Viewer } from './auth/tokens';
import type { AuditAction, AuditTrail } from './audit';
import { DEFAULT_IDENTITY_TIMEOUT_MS } from './config';
import { ErrorCode, forbidden, PortalError, unauthenticated } from './errors';
import { postInternal } from './internalHttp';

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

/**
 * The request's side of every access decision: who the viewer is, and the
 * facts about them that other subgraphs answer (the patients a practitioner
 * treats, a pharmacist's pending requests, the viewer's care teams), asked
 * once per request and batched. It decides nothing itself: each subgraph's
 * declared policy (`./policy.ts`) does, and audits through `record`.
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

  /** Whether identity says this practitioner viewer treats the patient (batched per request); false for anyone else. */
  treats(patientId: string): Promise<boolean> {
    if (this.viewer?.role !== 'PRACTITIONER') return Promise.resolve(false);
    return this.careLoader.load(patientId);
  }

  /** Whether this pharmacist viewer looked the patient up in this request or the patient has a request pending; false for anyone else. */
  async hasPharmacyCase(patientId: string): Promise<boolean> {
    if (this.viewer?.role !== 'PHARMACIST') return false;
    return this.lookedUp.has(patientId) || this.pharmacyLoader.load(patientId);
  }

  /** Writes one audit event of this request (deduplicated by the trail). */
  record(patientId: string, kind: string, action: AuditAction, outcome: 'ALLOWED' | 'DENIED'): void {
    this.audit.record(patientId, kind, action, outcome);
  }

  requireViewer(): Viewer {
    if (!this.viewer) throw unauthenticated();
    return this.viewer;
  }

  /** The viewer's care teams as identity knows them now (asked once per request), never the token's snapshot. */
  careTeamIds(): Promise<string[]> {
    const viewer = this.requireViewer();
    if (viewer.role !== 'PATIENT' && viewer.role !== 'PRACTITIONER') return Promise.resolve([]);
    this.teams ??= this.careTeams(viewer);
    return this.teams;
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
  // The timeout bounds the body too: a server that sends headers and then hangs is no answer.
  const res = await postInternal(url, injectTraceHeaders({ 'content-type': 'application/json', authorization: `Bearer ${viewer.token}` }), JSON.stringify(question), timeoutMs);
  if (!res || res.status < 200 || res.status > 299) throw accessUnavailable();
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
