import type { ClinicalContext } from '../context';
import { toVisitNote } from './mappers';

type AppointmentRef = { id: string };

export const Appointment = {
  // Scheduling owns appointments and decides who sees them; this adds the note.
  __resolveReference: (ref: AppointmentRef) => ({ id: ref.id }),
  async visitNote(appointment: AppointmentRef, _: unknown, ctx: ClinicalContext) {
    const note = await ctx.records.visitNoteOfAppointment(appointment.id);
    return note && toVisitNote(note);
  },
};
