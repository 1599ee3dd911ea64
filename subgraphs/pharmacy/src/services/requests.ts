import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { badInput, isUniqueViolation, notFound, parseId, parseIdempotencyKey, PortalError, runChange, type Access, type AuditTrail, type Viewer } from '@portal/kit';
import { ErrorCode } from '../errors';
import { addDays } from '../dates';
import type { OutboxRow, PharmacyRequestRow, PrescriptionRow, RequestKind } from '../db/entities';
import type { PharmacyStore } from '../db/store';
import type { PharmacyLoaders } from '../loaders';
import { policy } from '../policy';
import { refillVerdict, renewalVerdict, type PrescriptionFacts } from './eligibility';
import { parseDecision, parseNote, parseRefillDenial, RENEWED_VALID_DAYS, type DecisionInput, type RefillDenialInput } from './inputs';
import { NOTICE_CATEGORY, NOTICE_SENDER, refillNotice, refillNoticeKey, renewalNotice, renewalNoticeKey, type Notice } from './notices';

/** The most requests one read of the staff queue returns (and its default). */
export const PENDING_PAGE = 100;
/** Requests read from the queue at a time while looking for those the viewer may see. */
const PENDING_CHUNK = 200;

export interface RequestRefillInput {
  prescriptionId: string;
  idempotencyKey?: string | null;
}

export interface RequestRenewalInput extends RequestRefillInput {
  note?: string | null;
}

/** What a decision returns: the request as decided, and the prescription an approval created. */
export interface Decided {
  request: PharmacyRequestRow;
  newPrescription: PrescriptionRow | null;
}

const REQUEST = 'Pharmacy request';

const refusalCode = (kind: RequestKind) => (kind === 'REFILL' ? ErrorCode.REFILL_NOT_ALLOWED : ErrorCode.RENEWAL_NOT_ALLOWED);

const alreadyDecided = (kind: RequestKind) =>
  new PortalError(ErrorCode.CONFLICT, kind === 'REFILL' ? 'This refill request has already been filled or denied.' : 'This renewal request has already been decided.');

/**
 * The write side of pharmacy requests: patients ask for refills and renewals
 * of their own prescriptions; staff decide renewals and complete refills.
 * Rules and authorization live here; every change runs through the kit's
 * `runChange` (one SQLite connection is shared), and races are settled by the
 * database: the one-PENDING-per-kind unique index for requests, and an UPDATE
 * guarded by `status = 'PENDING'` for decisions.
 */
export class RequestService {
  constructor(
    private readonly access: Access,
    private readonly audit: AuditTrail,
    private readonly db: DataSource,
    private readonly store: PharmacyStore,
    private readonly loaders: PharmacyLoaders,
    private readonly now: Date,
    private readonly today: string,
    /** Tells the outbox worker that a message is waiting (a no-op when this instance runs none). */
    private readonly kickOutbox: () => void,
  ) {}

  requestRefill(input: RequestRefillInput): Promise<PharmacyRequestRow> {
    return this.request('REFILL', input, null);
  }

  requestRenewal(input: RequestRenewalInput): Promise<PharmacyRequestRow> {
    return this.request('RENEWAL', input, parseNote(input.note));
  }

  /**
   * Staff's queue, oldest first, `first` requests at most (PENDING_PAGE when
   * left out): pharmacists see every patient's requests, practitioners those
   * of the patients they treat (one care-access question per patient). Only
   * what is returned is audited as read.
   */
  async pending(kind: RequestKind | null, first = PENDING_PAGE): Promise<PharmacyRequestRow[]> {
    await policy.viewer('Query.pendingPharmacyRequests', this.access);
    if (!Number.isInteger(first) || first < 1 || first > PENDING_PAGE) throw badInput(`first must be between 1 and ${PENDING_PAGE}.`, 'first');
    // The queue is read in chunks, oldest first, until `first` requests the viewer may see are
    // found: a pharmacist's page is the first chunk; a practitioner's skips other teams' patients.
    const mine: PharmacyRequestRow[] = [];
    const decided = new Map<string, boolean>();
    let after: { requestedAt: string; id: string } | null = null;
    for (;;) {
      const rows = await this.store.pendingQueue(kind, PENDING_CHUNK, after);
      const patients = [...new Set(rows.map((r) => r.patientId))].filter((p) => !decided.has(p));
      await Promise.all(patients.map(async (p) => decided.set(p, await policy.may('Query.pendingPharmacyRequests', this.access, p))));
      for (const r of rows) if (decided.get(r.patientId) && mine.length < first) mine.push(r);
      if (mine.length >= first || rows.length < PENDING_CHUNK) break;
      after = rows[rows.length - 1];
    }
    // Only what is returned is audited as read.
    for (const p of new Set(mine.map((r) => r.patientId))) await policy.check('Query.pendingPharmacyRequests', this.access, p);
    for (const r of mine) this.loaders.request.prime(r.id, r);
    return mine;
  }

  /**
   * Approve (a new prescription linked to the old one) or deny (with a
   * reason) a pending renewal, exactly once. The decision, the new
   * prescription and the message to the patient commit together.
   */
  async decideRenewal(input: DecisionInput): Promise<Decided> {
    // A prescribing decision: practitioners only, and the approver prescribes the new prescription.
    const viewer = await policy.viewer('Mutation.decideRenewal', this.access);
    const decision = parseDecision(input);
    const request = await this.staffRequest(decision.requestId, 'Mutation.decideRenewal');
    if (request.kind !== 'RENEWAL') throw badInput('This is a refill request: complete it with completeRefill. Only renewals are decided.', 'requestId');
    if (request.status !== 'PENDING') throw alreadyDecided('RENEWAL');
    const old = await this.prescriptionOf(request);
    if (decision.approve) await policy.assert('Mutation.decideRenewal#approve', this.access, request.patientId);

    const decidedAt = this.now.toISOString();
    const newRx = decision.approve ? this.renewalOf(old, viewer, decision.refills, decision.daysSupply, decidedAt) : null;
    const stamp = { status: decision.approve ? ('APPROVED' as const) : ('DENIED' as const), decidedAt, decidedBy: viewer.personId, decisionNote: decision.note };
    const outbox = await this.noticeOf(request, old, newRx, decision.note, decidedAt);

    try {
      await runChange(this.db, () =>
        this.audit.transaction(this.db, async (tx) => {
          const store = this.store.within(tx);
          // Of two staff deciding at the same moment, only one moves the request out of PENDING.
          if (!(await store.claimDecision(request.id, 'RENEWAL', stamp))) throw alreadyDecided('RENEWAL');
          if (newRx) {
            await store.insertPrescription(newRx);
            await store.linkNewPrescription(request.id, newRx.id);
          }
          await store.insertOutbox(outbox);
        }),
      );
    } catch (e) {
      // prescription_renewed_from_unique: the old prescription was renewed by another request meanwhile.
      if (isUniqueViolation(e)) throw alreadyDecided('RENEWAL');
      throw e;
    }
    this.kickOutbox();
    this.forget(old);
    this.loaders.request.clear(request.id);
    if (newRx) this.loaders.prescription.prime(newRx.id, newRx);
    return { request: { ...request, ...stamp, newPrescriptionId: newRx?.id ?? null }, newPrescription: newRx };
  }

  /**
   * A pharmacist (only) fills a pending refill: one refill is used, a fill
   * recorded and the patient's message queued, together.
   */
  async completeRefill(input: { requestId: string }): Promise<PharmacyRequestRow> {
    const viewer = await policy.viewer('Mutation.completeRefill', this.access);
    const request = await this.staffRequest(parseId(input.requestId, 'requestId'), 'Mutation.completeRefill');
    if (request.kind !== 'REFILL') throw badInput('This is a renewal request: decide it with decideRenewal.', 'requestId');
    if (request.status !== 'PENDING') throw alreadyDecided('REFILL');
    const rx = await this.prescriptionOf(request);
    // The request was allowed when made; the prescription may have expired or been discontinued since.
    const verdict = refillVerdict({ ...(await this.facts(this.store, rx)), pendingKinds: [] }, this.today);
    if (!verdict.allowed) throw new PortalError(ErrorCode.REFILL_NOT_ALLOWED, verdict.message);
    await policy.assert('Mutation.completeRefill#fill', this.access, request.patientId);

    const stamp = { status: 'COMPLETED' as const, decidedAt: this.now.toISOString(), decidedBy: viewer.personId, decisionNote: null };
    const medicationName = await this.medicationName(rx);
    const outbox = this.outboxRow(request, rx.careTeamId, refillNoticeKey(request.id), refillNotice({ filled: true, medicationName, refillsRemaining: rx.refillsRemaining - 1 }), stamp.decidedAt);
    await runChange(this.db, () =>
      this.audit.transaction(this.db, async (tx) => {
        const store = this.store.within(tx);
        // Of a fill and a denial at the same moment, only one moves the request out of PENDING.
        if (!(await store.claimDecision(request.id, 'REFILL', stamp))) throw alreadyDecided('REFILL');
        if (!(await store.useRefill(rx.id))) throw new PortalError(ErrorCode.REFILL_NOT_ALLOWED, 'This prescription has no refills left.');
        await store.insertFill({ id: randomUUID(), prescriptionId: rx.id, filledOn: this.today, quantity: rx.quantity });
        if (outbox) await store.insertOutbox(outbox);
      }),
    );
    if (outbox) this.kickOutbox();
    this.forget(rx);
    this.loaders.request.clear(request.id);
    return { ...request, ...stamp };
  }

  /**
   * A pharmacist (only) denies a pending refill with a reason: the request is
   * DENIED (nothing is filled, no refill used) and the patient's message with
   * the reason is queued, together. A refill already filled or denied is
   * CONFLICT, also when a fill and a denial race.
   */
  async denyRefill(input: RefillDenialInput): Promise<PharmacyRequestRow> {
    const viewer = await policy.viewer('Mutation.denyRefill', this.access);
    const { requestId, reason } = parseRefillDenial(input);
    const request = await this.staffRequest(requestId, 'Mutation.denyRefill');
    if (request.kind !== 'REFILL') throw badInput('This is a renewal request: decide it with decideRenewal.', 'requestId');
    if (request.status !== 'PENDING') throw alreadyDecided('REFILL');
    const rx = await this.prescriptionOf(request);

    const stamp = { status: 'DENIED' as const, decidedAt: this.now.toISOString(), decidedBy: viewer.personId, decisionNote: reason };
    const medicationName = await this.medicationName(rx);
    const outbox = this.outboxRow(request, rx.careTeamId, refillNoticeKey(request.id), refillNotice({ filled: false, medicationName, reason }), stamp.decidedAt);
    await runChange(this.db, () =>
      this.audit.transaction(this.db, async (tx) => {
        const store = this.store.within(tx);
        if (!(await store.claimDecision(request.id, 'REFILL', stamp))) throw alreadyDecided('REFILL');
        if (outbox) await store.insertOutbox(outbox);
      }),
    );
    if (outbox) this.kickOutbox();
    this.forget(rx);
    this.loaders.request.clear(request.id);
    return { ...request, ...stamp };
  }

  // ---------------------------------------------------------------- requests by patients

  private async request(kind: RequestKind, input: RequestRefillInput, note: string | null): Promise<PharmacyRequestRow> {
    const entry = kind === 'REFILL' ? 'Mutation.requestRefill' : 'Mutation.requestRenewal';
    // Who asks: the patient, or a proxy in the patient's name (the prescription names the patient).
    const requestedBy = (await policy.viewer(entry, this.access)).personId;
    const prescriptionId = parseId(input.prescriptionId, 'prescriptionId');
    const key = parseIdempotencyKey(input.idempotencyKey);
    const rx = await this.store.prescriptionById(prescriptionId);
    if (!rx) throw notFound('Prescription');
    // Another patient's prescription (one the viewer is no proxy for) is NOT_FOUND, exactly like a missing one.
    await policy.assert(entry, this.access, rx.patientId);
    const patientId = rx.patientId;
    let row: PharmacyRequestRow;
    try {
      row = await runChange(this.db, async () => {
        // A retry returns the first result, even if the rules would now refuse a new request.
        const first = key ? await this.store.requestByKey(requestedBy, key) : null;
        if (first) return replay(first, prescriptionId, kind);
        await this.assertAllowed(kind, prescriptionId);
        const fresh: PharmacyRequestRow = {
          id: randomUUID(),
          prescriptionId,
          patientId,
          kind,
          status: 'PENDING',
          requestedAt: this.now.toISOString(),
          requestedBy,
          note,
          decidedAt: null,
          decidedBy: null,
          decisionNote: null,
          newPrescriptionId: null,
          idempotencyKey: key,
        };
        await this.audit.transaction(this.db, (tx) => this.store.within(tx).insertRequest(fresh));
        return fresh;
      });
    } catch (e) {
      // A duplicate sent at the same moment won. On PostgreSQL it may commit between this request's
      // read of the key and its insert (refused by a unique index) or its rule check (refused as
      // pending); on SQLite changes queue, so the duplicate reads the winner first. The same key
      // answers with the winner; anything else is refused as a sequential duplicate would be.
      const lost = isUniqueViolation(e) || (e instanceof PortalError && e.extensions.code === refusalCode(kind));
      const first = lost && key ? await this.store.requestByKey(requestedBy, key) : null;
      if (first) return replay(first, prescriptionId, kind);
      if (!isUniqueViolation(e)) throw e;
      await this.assertAllowed(kind, prescriptionId);
      throw new PortalError(refusalCode(kind), `A ${kind === 'REFILL' ? 'refill' : 'renewal'} of this prescription is already pending.`);
    }
    this.forget(rx);
    return row;
  }

  /** The rules of PRODUCT.md on what is stored now, or REFILL_NOT_ALLOWED / RENEWAL_NOT_ALLOWED saying which failed. */
  private async assertAllowed(kind: RequestKind, prescriptionId: string): Promise<void> {
    const rx = await this.store.prescriptionById(prescriptionId);
    if (!rx) throw notFound('Prescription');
    const facts = await this.facts(this.store, rx);
    const verdict = kind === 'REFILL' ? refillVerdict(facts, this.today) : renewalVerdict(facts, this.today);
    if (!verdict.allowed) throw new PortalError(refusalCode(kind), verdict.message);
  }

  private async facts(store: PharmacyStore, rx: PrescriptionRow): Promise<PrescriptionFacts> {
    const [pending, renewed] = await Promise.all([store.pendingRequestsOf([rx.id]), store.isRenewed(rx.id)]);
    return {
      discontinued: rx.status === 'DISCONTINUED',
      refillsRemaining: rx.refillsRemaining,
      expiresOn: rx.expiresOn,
      pendingKinds: pending.map((r) => r.kind),
      renewed,
    };
  }

  // ---------------------------------------------------------------- staff decisions

  /** A request staff may change: a practitioner only those of patients they treat; anything else NOT_FOUND. */
  private async staffRequest(id: string, key: 'Mutation.decideRenewal' | 'Mutation.completeRefill' | 'Mutation.denyRefill'): Promise<PharmacyRequestRow> {
    const request = await this.store.requestById(id);
    if (!request) throw notFound(REQUEST);
    await policy.assert(key, this.access, request.patientId);
    return request;
  }

  private async prescriptionOf(request: PharmacyRequestRow): Promise<PrescriptionRow> {
    const rx = await this.store.prescriptionById(request.prescriptionId);
    // The foreign key makes this unreachable; a bare Error is masked as INTERNAL_SERVER_ERROR.
    if (!rx) throw new Error('pharmacy request without its prescription');
    return rx;
  }

  /**
   * The new prescription of an approval: same medication, directions and
   * quantity; refills and days of supply as the decider gave them (else the
   * old ones); valid a year from today; prescribed by the approving
   * practitioner (only practitioners decide); in the same care team.
   */
  private renewalOf(old: PrescriptionRow, viewer: Viewer, refills: number | null, daysSupply: number | null, at: string): PrescriptionRow {
    const granted = refills ?? old.refillsAuthorized;
    return {
      id: randomUUID(),
      patientId: old.patientId,
      medicationCode: old.medicationCode,
      directions: old.directions,
      quantity: old.quantity,
      daysSupply: daysSupply ?? old.daysSupply,
      refillsAuthorized: granted,
      refillsRemaining: granted,
      writtenOn: this.today,
      expiresOn: addDays(this.today, RENEWED_VALID_DAYS),
      status: 'ACTIVE',
      prescriberId: viewer.personId,
      renewedFromId: old.id,
      discontinuedAt: null,
      createdAt: at,
      careTeamId: old.careTeamId,
    };
  }

  /** The outbox row telling the patient of a renewal decision, from the care team the prescription was written in. */
  private async noticeOf(request: PharmacyRequestRow, old: PrescriptionRow, newRx: PrescriptionRow | null, note: string | null, at: string): Promise<OutboxRow> {
    // Prescriptions stored before care teams were recorded fall back to the deciding practitioner's team.
    const careTeamId = old.careTeamId ?? (await this.access.careTeamIds())[0];
    if (!careTeamId) {
      throw new PortalError(ErrorCode.CONFLICT, 'This prescription names no care team to tell the patient from. Ask a practitioner of the patient’s care team to decide it.');
    }
    const notice = renewalNotice({
      approved: newRx !== null,
      medicationName: await this.medicationName(old),
      note,
      refills: newRx?.refillsAuthorized,
      expiresOn: newRx?.expiresOn,
    });
    return this.outboxRow(request, careTeamId, renewalNoticeKey(request.id), notice, at)!;
  }

  private async medicationName(rx: PrescriptionRow): Promise<string> {
    const [medication] = await this.store.medicationsByCodes([rx.medicationCode]);
    return medication?.name ?? 'medication';
  }

  /**
   * A message to the patient from `careTeamId`, to queue in the change's own
   * transaction. Null without a care team: a refill of a prescription stored
   * before care teams were recorded is still filled or denied (pharmacists
   * belong to no care team to send it from); the patient sees the outcome
   * under Prescriptions.
   */
  private outboxRow(request: PharmacyRequestRow, careTeamId: string | null, idempotencyKey: string, notice: Notice, at: string): OutboxRow | null {
    if (!careTeamId) return null;
    return {
      id: randomUUID(),
      idempotencyKey,
      requestId: request.id,
      patientId: request.patientId,
      careTeamId,
      category: NOTICE_CATEGORY,
      subject: notice.subject,
      body: notice.body,
      senderName: NOTICE_SENDER,
      createdAt: at,
      attempts: 0,
      refusals: 0,
      nextAttemptAt: at,
      lockedUntil: null,
      lockedBy: null,
      deliveredAt: null,
      deadAt: null,
      lastError: null,
    };
  }

  /** Drops what this request's loaders know of a changed prescription, so the answer shows the change. */
  private forget(rx: PrescriptionRow): void {
    this.loaders.forget(rx.id);
  }
}

/** The first request made with this key; CONFLICT when the key went with another prescription or kind. */
function replay(first: PharmacyRequestRow, prescriptionId: string, kind: RequestKind): PharmacyRequestRow {
  if (first.prescriptionId !== prescriptionId || first.kind !== kind) {
    throw new PortalError(ErrorCode.CONFLICT, 'This idempotencyKey was already used for another request. Send a new key for a new request.', { field: 'idempotencyKey' });
  }
  return first;
}
