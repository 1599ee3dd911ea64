import { badInput, PortalError } from '@portal/kit';
import { ErrorCode } from '../errors';
import type { AppointmentStatus } from '../db/entities';

const DAY_MS = 86_400_000;

/** How far ahead a patient may book. */
export const BOOKING_WINDOW_DAYS = 180;
/** The longest range availableSlots and schedule answer at once. */
export const MAX_RANGE_DAYS = 31;
export const MAX_REASON_LENGTH = 500;
/** A patient can be checked in from this long before the start. */
export const CHECK_IN_OPENS_MINUTES = 60;

/** The statuses a practitioner sets; BOOKED and CANCELLED come from booking and cancelling. */
export const STAFF_STATUSES: readonly AppointmentStatus[] = ['CHECKED_IN', 'FULFILLED', 'NO_SHOW'];

/** A half-open range [from, to) of at most 31 days. */
export function parseRange(from: Date, to: Date): { from: Date; to: Date } {
  if (to.getTime() <= from.getTime()) throw badInput('to must be after from.', 'to');
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
    throw badInput(`from and to can be at most ${MAX_RANGE_DAYS} days apart. Ask for a shorter range.`, 'to');
  }
  return { from, to };
}

/** Optional free text: trimmed, blank means none, at most 500 characters (counted as PostgreSQL counts them). */
export function parseReason(value: string | null | undefined, field = 'reason'): string | null {
  if (value == null) return null;
  const text = value.trim();
  if (text === '') return null;
  if ([...text].length > MAX_REASON_LENGTH) throw badInput(`${field} can be at most ${MAX_REASON_LENGTH} characters.`, field);
  return text;
}

/** The latest start a patient may book now. */
export const bookingWindowEnd = (now: Date) => new Date(now.getTime() + BOOKING_WINDOW_DAYS * DAY_MS);

/**
 * A slot a patient may book now: starts in the future and inside the booking
 * window. Refusals are BAD_USER_INPUT on `slotId`: the request names a time
 * that can never be booked, unlike SLOT_UNAVAILABLE, which means "taken".
 */
export function assertBookable(start: Date, now: Date): void {
  if (start.getTime() <= now.getTime()) throw badInput('That slot is in the past. Choose one that has not started yet.', 'slotId');
  if (start.getTime() > bookingWindowEnd(now).getTime()) {
    throw badInput(`That slot is more than ${BOOKING_WINDOW_DAYS} days ahead. Appointments can be booked up to ${BOOKING_WINDOW_DAYS} days in advance.`, 'slotId');
  }
}

/** Why a patient cannot cancel (or move) an appointment now, or null when they can. */
export function notCancellableBecause(status: AppointmentStatus, start: Date, now: Date): string | null {
  switch (status) {
    case 'BOOKED':
      return start.getTime() > now.getTime() ? null : 'it has already started; call the clinic to change it';
    case 'CANCELLED':
      return 'it was already cancelled';
    case 'CHECKED_IN':
      return 'you have already been checked in; call the clinic to change it';
    case 'FULFILLED':
      return 'it has already taken place';
    case 'NO_SHOW':
      return 'it was marked as missed (no-show)';
  }
}

/** A patient may cancel an appointment that is booked and has not started yet. */
export function isCancellable(status: AppointmentStatus, start: Date, now: Date): boolean {
  return notCancellableBecause(status, start, now) === null;
}

export function notCancellable(verb: 'cancelled' | 'rescheduled', why: string): PortalError {
  return new PortalError(ErrorCode.APPOINTMENT_NOT_CANCELLABLE, `This appointment cannot be ${verb}: ${why}.`);
}

/**
 * Why a practitioner cannot move an appointment from `current` to `target` now,
 * or null when they can. BOOKED -> CHECKED_IN from an hour before the start
 * until the end; BOOKED or CHECKED_IN -> FULFILLED once started; BOOKED ->
 * NO_SHOW once started. Cancelled, fulfilled and no-show appointments are final.
 */
export function statusChangeRefusedBecause(current: AppointmentStatus, target: AppointmentStatus, start: Date, end: Date, now: Date): string | null {
  if (current === 'CANCELLED') return 'it was cancelled';
  if (current === 'FULFILLED') return 'it is already fulfilled';
  if (current === 'NO_SHOW') return 'it is already marked as a no-show';
  const started = now.getTime() >= start.getTime();
  switch (target) {
    case 'CHECKED_IN':
      if (current !== 'BOOKED') return 'it is already checked in';
      if (now.getTime() < start.getTime() - CHECK_IN_OPENS_MINUTES * 60_000) return `check-in opens ${CHECK_IN_OPENS_MINUTES} minutes before the start`;
      if (now.getTime() >= end.getTime()) return 'it has already ended; mark it fulfilled or no-show';
      return null;
    case 'FULFILLED':
      return started ? null : 'it has not started yet';
    case 'NO_SHOW':
      if (current === 'CHECKED_IN') return 'the patient has checked in';
      return started ? null : 'it has not started yet';
    default:
      return 'only CHECKED_IN, FULFILLED and NO_SHOW can be set';
  }
}
