import { notFound, parsePage, type Access, type PageArgs } from '@portal/kit';
import type { ConditionRow, LabResultRow, VisitNoteRow } from '../db/entities';
import type { ClinicalLoaders } from '../loaders';

const DEFAULT_PAGE = 10;

/**
 * Who may see which clinical record. Every list of a patient is checked (and
 * audited) once per patient and kind; a record looked up by id that belongs to
 * someone else looks exactly like a missing one.
 */
export class RecordsService {
  constructor(
    private readonly access: Access,
    private readonly loaders: ClinicalLoaders,
  ) {}

  async labResults(patientId: string, args: PageArgs) {
    await this.access.assert(patientId, 'lab_result');
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
    await this.access.assert(patientId, 'visit_note');
    const page = parsePage(args, DEFAULT_PAGE);
    return { patientId, page, rows: await this.loaders.visitNotePage.load({ patientId, page }) };
  }

  /** Only called for a connection that `visitNotes` already authorized. */
  visitNoteCount(patientId: string): Promise<number> {
    return this.loaders.visitNoteCount.load(patientId);
  }

  /** A note by id; another patient's note, a draft and a missing id all answer NOT_FOUND. */
  async visitNote(id: string): Promise<VisitNoteRow> {
    this.access.requireViewer();
    const note = await this.loaders.visitNote.load(id);
    if (!note) throw notFound('Visit note');
    await this.access.assertOrNotFound(note.patientId, 'visit_note', 'Visit note');
    return note;
  }

  /**
   * The note written for an appointment, or null when there is none or the
   * viewer may not read it (the refusal is audited, not raised: the
   * appointment itself may well be visible to them).
   */
  async visitNoteOfAppointment(appointmentId: string): Promise<VisitNoteRow | null> {
    this.access.requireViewer();
    const [note] = await this.loaders.visitNotesOfAppointment.load(appointmentId);
    if (!note) return null;
    return (await this.access.check(note.patientId, 'visit_note')) ? note : null;
  }

  async conditions(patientId: string): Promise<ConditionRow[]> {
    await this.access.assert(patientId, 'condition');
    return this.loaders.conditions.load(patientId);
  }

  async allergies(patientId: string) {
    await this.access.assert(patientId, 'allergy');
    return this.loaders.allergies.load(patientId);
  }

  async immunizations(patientId: string) {
    await this.access.assert(patientId, 'immunization');
    return this.loaders.immunizations.load(patientId);
  }

  /** The newest vitals: the first page of `vitalSigns`, without its look-ahead row. */
  async vitals(patientId: string, first: number | null | undefined) {
    const { page, rows } = await this.vitalSigns(patientId, { first });
    return rows.slice(0, page.limit);
  }

  async vitalSigns(patientId: string, args: PageArgs) {
    await this.access.assert(patientId, 'vital');
    const page = parsePage(args, DEFAULT_PAGE);
    return { patientId, page, rows: await this.loaders.vitalPage.load({ patientId, page }) };
  }

  /** Only called for a connection that `vitalSigns` already authorized. */
  vitalCount(patientId: string): Promise<number> {
    return this.loaders.vitalCount.load(patientId);
  }
}
