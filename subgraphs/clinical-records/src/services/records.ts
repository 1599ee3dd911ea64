import { notFound, parsePage, type Access, type PageArgs } from '@portal/kit';
import type { ConditionRow, LabResultRow, VisitNoteRow } from '../db/entities';
import type { ClinicalLoaders } from '../loaders';
import { policy } from '../policy';

const DEFAULT_PAGE = 10;

/**
 * Reads clinical records for the viewer; who may see which is decided by
 * `../policy.ts` (asked here, never by role). Every list of a patient is checked (and
 * audited) once per patient and kind; a record looked up by id that belongs to
 * someone else looks exactly like a missing one.
 */
export class RecordsService {
  constructor(
    private readonly access: Access,
    private readonly loaders: ClinicalLoaders,
  ) {}

  async labResults(patientId: string, args: PageArgs) {
    await policy.assert('Patient.labResults', this.access, patientId);
    const page = parsePage(args, DEFAULT_PAGE);
    return { patientId, page, rows: await this.loaders.labResultPage.load({ patientId, page }) };
  }

  /** Only called for a connection that `labResults` already authorized. */
  labResultCount(patientId: string): Promise<number> {
    return this.loaders.labResultCount.load(patientId);
  }

  /** Only reachable from a result that `labResults` already authorized. */
  labHistory(result: Pick<LabResultRow, 'id'>) {
    return this.loaders.labHistory.load(result.id);
  }

  async visitNotes(patientId: string, args: PageArgs) {
    await policy.assert('Patient.visitNotes', this.access, patientId);
    const page = parsePage(args, DEFAULT_PAGE);
    return { patientId, page, rows: await this.loaders.visitNotePage.load({ patientId, page }) };
  }

  /** Only called for a connection that `visitNotes` already authorized. */
  visitNoteCount(patientId: string): Promise<number> {
    return this.loaders.visitNoteCount.load(patientId);
  }

  /** A note by id; another patient's note, a draft and a missing id all answer NOT_FOUND. */
  async visitNote(id: string): Promise<VisitNoteRow> {
    await policy.viewer('VisitNote.__resolveReference', this.access);
    const note = await this.loaders.visitNote.load(id);
    if (!note) throw notFound('Visit note');
    await policy.assert('VisitNote.__resolveReference', this.access, note.patientId);
    return note;
  }

  /**
   * The note written for an appointment, or null when there is none or the
   * viewer may not read it (the refusal is audited, not raised: the
   * appointment itself may well be visible to them).
   */
  async visitNoteOfAppointment(appointmentId: string): Promise<VisitNoteRow | null> {
    await policy.viewer('Appointment.visitNote', this.access);
    const [note] = await this.loaders.visitNotesOfAppointment.load(appointmentId);
    if (!note) return null;
    return (await policy.check('Appointment.visitNote', this.access, note.patientId)) ? note : null;
  }

  async conditions(patientId: string): Promise<ConditionRow[]> {
    await policy.assert('Patient.conditions', this.access, patientId);
    return this.loaders.conditions.load(patientId);
  }

  async allergies(patientId: string) {
    await policy.assert('Patient.allergies', this.access, patientId);
    return this.loaders.allergies.load(patientId);
  }

  async immunizations(patientId: string) {
    await policy.assert('Patient.immunizations', this.access, patientId);
    return this.loaders.immunizations.load(patientId);
  }

  /** The newest vitals: the first page of `vitalSigns`, without its look-ahead row. */
  async vitals(patientId: string, first: number | null | undefined) {
    await policy.assert('Patient.vitals', this.access, patientId);
    const { page, rows } = await this.vitalPage(patientId, { first });
    return rows.slice(0, page.limit);
  }

  async vitalSigns(patientId: string, args: PageArgs) {
    await policy.assert('Patient.vitalSigns', this.access, patientId);
    return this.vitalPage(patientId, args);
  }

  private async vitalPage(patientId: string, args: PageArgs) {
    const page = parsePage(args, DEFAULT_PAGE);
    return { patientId, page, rows: await this.loaders.vitalPage.load({ patientId, page }) };
  }

  /** Only called for a connection that `vitalSigns` already authorized. */
  vitalCount(patientId: string): Promise<number> {
    return this.loaders.vitalCount.load(patientId);
  }
}
