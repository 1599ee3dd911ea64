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
 * What a proxy (a parent of a minor, a caregiver the patient named) may see of
 * one patient's record, as identity answers it now. The kit does not know the
 * scope names: identity defines them (its `ProxyScope` enum) and each
 * subgraph's policy names the one its records fall under.
 */
export interface ProxyGrant {
  /** The record areas the grant covers, e.g. `APPOINTMENTS`, `MESSAGES`. */
  scopes: readonly string[];
  /** Records marked sensitive are hidden from this proxy (a parent of a 13 to 17 year old). */
  hideSensitive: boolean;
}

/** Which of `patientIds` a patient viewer may act for as a proxy, and how far (identity owns grants). */
export type ProxyAccessCheck = (viewer: Viewer, patientIds: readonly string[]) => Promise<Map<string, ProxyGrant>>;

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
  private readonly proxyLoader: DataLoader<string, ProxyGrant | null>;
  private readonly lookedUp = new Set<string>();
  /** Patients this viewer holds a live proxy grant for (as answered in this request): their events name the role PROXY. */
  private readonly proxied = new Set<string>();
  private teams?: Promise<string[]>;

  constructor(
    readonly viewer: Viewer | null,
    private readonly audit: AuditTrail,
    careAccess: CareAccessCheck,
    private readonly careTeams: CareTeamsCheck = async (viewer) => viewer.careTeamIds,
    pharmacyAccess: PharmacyAccessCheck = async () => new Set(),
    proxyAccess: ProxyAccessCheck = async () => new Map(),
  ) {
    this.careLoader = new DataLoader(async (ids) => {
      const allowed = await careAccess(this.requireViewer(), ids);
      return ids.map((id) => allowed.has(id));
    });
    this.pharmacyLoader = new DataLoader(async (ids) => {
      const pending = await pharmacyAccess(this.requireViewer(), ids);
      return ids.map((id) => pending.has(id));
    });
    this.proxyLoader = new DataLoader(async (ids) => {
      const grants = await proxyAccess(this.requireViewer(), ids);
      return ids.map((id) => grants.get(id) ?? null);
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

  /**
   * The grant under which this patient viewer acts for another patient now
   * (batched per request, asked of identity); null for the patient's own
   * record, for anyone not a patient, and without a live grant.
   */
  proxyGrant(patientId: string): Promise<ProxyGrant | null> {
    const viewer = this.viewer;
    if (viewer?.role !== 'PATIENT' || viewer.personId === patientId) return Promise.resolve(null);
    return this.proxyLoader.load(patientId).then((grant) => {
      if (grant) this.proxied.add(patientId);
      return grant;
    });
  }

  /** Whether records marked sensitive must be left out for this viewer (a proxy whose grant hides them). */
  async hidesSensitive(patientId: string): Promise<boolean> {
    return (await this.proxyGrant(patientId))?.hideSensitive === true;
  }

  /** Writes one audit event of this request (deduplicated by the trail). */
  record(patientId: string, kind: string, action: AuditAction, outcome: 'ALLOWED' | 'DENIED'): void {
    this.audit.record(patientId, kind, action, outcome, this.proxied.has(patientId) ? 'PROXY' : undefined);
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
const askCareAccess = (identityUrl: string, viewer: Viewer, question: { patientIds: readonly string[]; careTeams?: boolean; proxy?: boolean }, timeoutMs: number) =>
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

/** Asks identity which of `patientIds` the patient viewer may act for as a proxy, with the viewer's own token. */
export function remoteProxyAccess(identityUrl: string, timeoutMs = DEFAULT_IDENTITY_TIMEOUT_MS): ProxyAccessCheck {
  return async (viewer, patientIds) => {
    const body = await askCareAccess(identityUrl, viewer, { patientIds, proxy: true }, timeoutMs);
    return proxyGrantsOf(body.proxy);
  };
}

/** Reads identity's `proxy` answer (`{ [patientId]: { scopes, hideSensitive } }`), keeping only well-formed grants. */
export function proxyGrantsOf(answer: unknown): Map<string, ProxyGrant> {
  const grants = new Map<string, ProxyGrant>();
  if (!answer || typeof answer !== 'object') return grants;
  for (const [patientId, g] of Object.entries(answer as Record<string, unknown>)) {
    if (!g || typeof g !== 'object') continue;
    const { scopes, hideSensitive } = g as { scopes?: unknown; hideSensitive?: unknown };
    if (!Array.isArray(scopes)) continue;
    grants.set(patientId, { scopes: scopes.filter((x): x is string => typeof x === 'string'), hideSensitive: hideSensitive !== false });
  }
  return grants;
}

/** Asks identity which care teams the viewer belongs to now, with the viewer's own token. */
export function remoteCareTeams(identityUrl: string, timeoutMs = DEFAULT_IDENTITY_TIMEOUT_MS): CareTeamsCheck {
  return async (viewer) => {
    const body = await askCareAccess(identityUrl, viewer, { patientIds: [], careTeams: true }, timeoutMs);
    return Array.isArray(body.careTeamIds) ? body.careTeamIds.map(String) : [];
  };
}
