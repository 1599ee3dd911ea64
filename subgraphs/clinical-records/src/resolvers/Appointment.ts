import { toVisitNote } from './mappers';
import type { AppointmentResolvers } from '../generated/graphql';

export const Appointment: AppointmentResolvers = {
  // Scheduling owns appointments and decides who sees them; this adds the note.
  __resolveReference: (ref) => ({ id: ref.id }),
  async visitNote(appointment, _, ctx) {
    const note = await ctx.records.visitNoteOfAppointment(appointment.id);
    return note && toVisitNote(note);
  },
};
