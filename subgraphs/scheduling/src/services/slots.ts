import { badInput, notFound, parseId, type Access } from '@portal/kit';
import type { SlotRow } from '../db/entities';
import type { SchedulingStore } from '../db/store';
import type { SchedulingLoaders } from '../loaders';
import { bookingWindowEnd, parseRange } from './rules';

export interface SlotSearch {
  clinicId: string;
  appointmentType: string;
  from: Date;
  to: Date;
}

/** Responsible for finding free slots. Slots are not health data, but only signed-in viewers search them. */
export class SlotService {
  constructor(
    private readonly access: Access,
    private readonly loaders: SchedulingLoaders,
    private readonly store: SchedulingStore,
    private readonly now: Date,
  ) {}

  /** Free, bookable slots starting in [from, to), soonest first. */
  async available(search: SlotSearch): Promise<SlotRow[]> {
    this.access.requireViewer();
    const clinicId = parseId(search.clinicId, 'clinicId');
    const { from, to } = parseRange(search.from, search.to);
    if (to.getTime() <= this.now.getTime()) throw badInput('That range has already passed. Ask for slots from now on.', 'to');
    const clinic = await this.loaders.clinic.load(clinicId);
    if (!clinic) throw notFound('Clinic');
    const offered = clinic.appointmentTypes.split(',').filter(Boolean);
    if (!offered.includes(search.appointmentType)) {
      throw badInput(`${clinic.name} does not offer ${search.appointmentType} appointments; it offers ${offered.join(', ')}.`, 'appointmentType');
    }
    // Only what can be booked now: starting after now and inside the booking window.
    const lower = Math.max(from.getTime(), this.now.getTime() + 1);
    const upper = Math.min(to.getTime(), bookingWindowEnd(this.now).getTime() + 1);
    if (lower >= upper) return [];
    return this.store.freeSlots(clinicId, search.appointmentType, new Date(lower).toISOString(), new Date(upper).toISOString());
  }
}
