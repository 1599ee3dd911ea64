import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { notFound, parseId, parseIdempotencyKey, PortalError, type Access, type AuditTrail } from '@portal/kit';
import { ErrorCode } from '../errors';
import type { AppointmentRow, SlotRow } from '../db/entities';
import { IdempotencyKeyTaken, SchedulingStore, slotUnavailable } from '../db/store';
import { changePatient } from '../db/unitOfWork';
import { policy } from '../policy';
import { assertBookable, notCancellable, notCancellableBecause, parseReason } from './rules';

export interface BookInput {
  slotId: string;
  /** The patient the appointment is for: the viewer themself (default) or someone they are a proxy for. */
  patientId?: string | null;
  reason?: string | null;
  idempotencyKey?: string | null;
}

export interface CancelInput {
  appointmentId: string;
  reason?: string | null;
}

export interface RescheduleInput {
  appointmentId: string;
  slotId: string;
}

/** The cancellation reason recorded on the appointment a reschedule moved away from. */
export const RESCHEDULED = 'Rescheduled';

/**
 * Responsible for a patient's own bookings: book, cancel, reschedule. Every
 * rule is checked inside `changePatient`, so a check and the write it allows
 * see the same state; the database's unique index has the last word on slots.
 */
export class BookingService {
  private readonly nowIso: string;

  constructor(
    private readonly access: Access,
    private readonly audit: AuditTrail,
    private readonly db: DataSource,
    private readonly now: Date,
  ) {
    this.nowIso = now.toISOString();
  }

  async book(input: BookInput): Promise<AppointmentRow> {
    const viewer = await policy.viewer('Mutation.bookAppointment', this.access);
    const patientId = input.patientId == null ? viewer.personId : parseId(input.patientId, 'patientId');
    const slotId = parseId(input.slotId, 'slotId');
    const reason = parseReason(input.reason);
    const key = parseIdempotencyKey(input.idempotencyKey);
    await policy.assert('Mutation.bookAppointment', this.access, patientId);
    try {
      return await changePatient<AppointmentRow, AppointmentRow>(
        this.db,
        this.audit,
        patientId,
        async (store) => {
          // A retry returns the first result even if its slot has since passed or been taken.
          const first = key ? await store.appointmentByIdempotencyKey(patientId, key) : null;
          if (first) return { done: replay(first, slotId) };
          const slot = await this.bookableSlot(store, slotId);
          await assertNoOverlap(store, patientId, slot, null);
          return { plan: this.appointmentOn(slot, patientId, reason, key) };
        },
        async (store, row) => {
          await store.insertAppointment(row);
          return row;
        },
      );
    } catch (e) {
      // Only reachable when the per-patient serialisation is bypassed (e.g. two SQLite processes).
      if (e instanceof IdempotencyKeyTaken && key) {
        const first = await new SchedulingStore(this.db).appointmentByIdempotencyKey(patientId, key);
        if (first) return replay(first, slotId);
      }
      throw e;
    }
  }

  async cancel(input: CancelInput): Promise<AppointmentRow> {
    await policy.viewer('Mutation.cancelAppointment', this.access);
    const id = parseId(input.appointmentId, 'appointmentId');
    const patientId = await this.patientOf(id);
    const reason = parseReason(input.reason);
    const cancelledBy = this.access.requireViewer().accountId;
    return changePatient<AppointmentRow, AppointmentRow>(
      this.db,
      this.audit,
      patientId,
      async (store) => {
        const row = await this.ownAppointment(store, id, 'Mutation.cancelAppointment', patientId);
        const why = notCancellableBecause(row.status, new Date(row.startAt), this.now);
        if (why) throw notCancellable('cancelled', why);
        return { plan: row };
      },
      async (store, row) => {
        if (!(await store.cancel(row.id, { cancelledAt: this.nowIso, cancelledBy, reason }, this.nowIso))) throw changedMeanwhile('cancelled');
        return { ...row, status: 'CANCELLED', cancelledAt: this.nowIso, cancelledBy, cancelReason: reason };
      },
    );
  }

  async reschedule(input: RescheduleInput): Promise<AppointmentRow> {
    await policy.viewer('Mutation.rescheduleAppointment', this.access);
    const id = parseId(input.appointmentId, 'appointmentId');
    const patientId = await this.patientOf(id);
    const slotId = parseId(input.slotId, 'slotId');
    const cancelledBy = this.access.requireViewer().accountId;
    return changePatient<{ old: AppointmentRow; next: AppointmentRow }, AppointmentRow>(
      this.db,
      this.audit,
      patientId,
      async (store) => {
        const old = await this.ownAppointment(store, id, 'Mutation.rescheduleAppointment', patientId);
        const why = notCancellableBecause(old.status, new Date(old.startAt), this.now);
        if (why) throw notCancellable('rescheduled', why);
        if (old.slotId === slotId) throw new PortalError(ErrorCode.BAD_USER_INPUT, 'The appointment is already in that slot. Choose another one.', { field: 'slotId' });
        const slot = await this.bookableSlot(store, slotId);
        if (slot.appointmentType !== old.appointmentType) {
          throw new PortalError(
            ErrorCode.BAD_USER_INPUT,
            `Choose a ${old.appointmentType} slot to move this appointment to; book a new appointment for another type of visit.`,
            { field: 'slotId' },
          );
        }
        await assertNoOverlap(store, patientId, slot, old.id);
        await policy.assert('Mutation.rescheduleAppointment#newSlot', this.access, patientId);
        return { plan: { old, next: this.appointmentOn(slot, patientId, old.reason, null) } };
      },
      // One transaction: if the new slot's insert is refused, the old appointment stays booked.
      async (store, { old, next }) => {
        if (!(await store.cancel(old.id, { cancelledAt: this.nowIso, cancelledBy, reason: RESCHEDULED }, this.nowIso))) throw changedMeanwhile('rescheduled');
        await store.insertAppointment(next);
        return next;
      },
    );
  }

  /**
   * The patient whose changes a cancel or move of this appointment queues
   * behind: the appointment names them (the viewer, or someone they act for
   * as a proxy). A missing id queues behind the viewer and reads NOT_FOUND
   * inside the change.
   */
  private async patientOf(appointmentId: string): Promise<string> {
    return (await new SchedulingStore(this.db).appointmentById(appointmentId))?.patientId ?? this.access.requireViewer().personId;
  }

  /** An appointment the viewer may change (their own, or as a proxy); anyone else's is NOT_FOUND exactly like a missing one. */
  private async ownAppointment(store: SchedulingStore, id: string, key: 'Mutation.cancelAppointment' | 'Mutation.rescheduleAppointment', queuedFor: string): Promise<AppointmentRow> {
    const row = await store.appointmentById(id);
    // Not there, or moved to another patient between the two reads (never, in practice): NOT_FOUND.
    if (!row || row.patientId !== queuedFor) throw notFound('Appointment');
    await policy.assert(key, this.access, row.patientId);
    return row;
  }

  private async bookableSlot(store: SchedulingStore, slotId: string): Promise<SlotRow> {
    const slot = await store.slotById(slotId);
    if (!slot) throw notFound('Slot');
    assertBookable(new Date(slot.startAt), this.now);
    // A fast refusal only: the unique index decides a race this read cannot see.
    if (await store.slotHeld(slot.id)) throw slotUnavailable();
    return slot;
  }

  private appointmentOn(slot: SlotRow, patientId: string, reason: string | null, idempotencyKey: string | null): AppointmentRow {
    return {
      id: randomUUID(),
      slotId: slot.id,
      patientId,
      practitionerId: slot.practitionerId,
      clinicId: slot.clinicId,
      appointmentType: slot.appointmentType,
      startAt: slot.startAt,
      endAt: slot.endAt,
      status: 'BOOKED',
      reason,
      createdAt: this.nowIso,
      cancelledAt: null,
      cancelledBy: null,
      cancelReason: null,
      idempotencyKey,
    };
  }
}

function replay(first: AppointmentRow, slotId: string): AppointmentRow {
  if (first.slotId !== slotId) {
    throw new PortalError(ErrorCode.CONFLICT, 'This idempotencyKey was already used to book another slot. Send a new key for a new booking.', { field: 'idempotencyKey' });
  }
  return first;
}

async function assertNoOverlap(store: SchedulingStore, patientId: string, slot: SlotRow, exceptId: string | null): Promise<void> {
  if (await store.hasOverlap(patientId, slot.startAt, slot.endAt, exceptId)) {
    throw new PortalError(ErrorCode.CONFLICT, 'You already have an appointment at that time. Choose another slot, or cancel or reschedule the other appointment first.');
  }
}

/** The clinic changed the appointment (e.g. checked the patient in) between the read and the write. */
const changedMeanwhile = (verb: 'cancelled' | 'rescheduled') =>
  notCancellable(verb, 'the clinic has just changed it; reload it to see its status');
