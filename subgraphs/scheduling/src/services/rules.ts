import type { AppointmentStatus } from '../db/entities';

/** A patient may cancel an appointment that is booked and has not started yet. */
export function isCancellable(status: AppointmentStatus, start: Date, now: Date): boolean {
  return status === 'BOOKED' && start.getTime() > now.getTime();
}
