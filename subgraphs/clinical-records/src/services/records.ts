import { notFound, parsePage, toConnection, type Access, type Connection, type PageArgs } from '@portal/kit';
import type { ConditionRow, LabResultRow, VisitNoteRow, VitalRow } from '../db/entities';
import { historyKey, type ClinicalLoaders } from '../loaders';
import { policy } from '../policy';

const DEFAULT_PAGE = 10;

/** A note's facts for its rules: a proxy whose grant hides sensitive records is refused a sensitive one (`proxyFor`). */
const noteSubject = (n: Pick<VisitNoteRow, 'patientId' | 'sensitivity'>) => ({ patientId: n.patientId, sensitive: n.sensitivity !== 'NORMAL' });

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

  /** Newest first; `totalCount` is counted only when asked for. */
  async labResults<T>(patientId: string, args: PageArgs, map: (row: LabResultRow) => T): Promise<Connection<T>> {
    await policy.assert('Patient.labResults', this.access, patientId);
    const page = parsePage(args, DEFAULT_PAGE);
    const rows = await this.loaders.labResultPage.load({ patientId, page });
    return toConnection(rows, page, () => this.loaders.labResultCount.load(patientId), (r) => ({ sort: r.resultedAt, id: r.id }), map);
  }

  /** Only reachable from a result that `labResults` already authorized; a proxy's trend leaves out what their grant hides. */
  labHistory(result: Pick<LabResultRow, 'id' | 'patientId'>) {
    return this.loaders.labHistory.load(historyKey(result.patientId, result.id));
  }

  /** Newest first; `totalCount` is counted only when asked for. */
  async visitNotes<T>(patientId: string, args: PageArgs, map: (row: VisitNoteRow) => T): Promise<Connection<T>> {
    await policy.assert('Patient.visitNotes', this.access, patientId);
    const page = parsePage(args, DEFAULT_PAGE);
    const rows = await this.loaders.visitNotePage.load({ patientId, page });
    return toConnection(rows, page, () => this.loaders.visitNoteCount.load(patientId), (n) => ({ sort: n.authoredAt, id: n.id }), map);
  }

  /** A note by id; another patient's note, a draft, a note a proxy's grant hides and a missing id all answer NOT_FOUND. */
  async visitNote(id: string): Promise<VisitNoteRow> {
    await policy.viewer('VisitNote.__resolveReference', this.access);
    const note = await this.loaders.visitNote.load(id);
    if (!note) throw notFound('Visit note');
    await policy.assert('VisitNote.__resolveReference', this.access, noteSubject(note));
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
    return (await policy.check('Appointment.visitNote', this.access, noteSubject(note))) ? note : null;
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
  async vitals(patientId: string, first: number | null | undefined): Promise<VitalRow[]> {
    await policy.assert('Patient.vitals', this.access, patientId);
    const page = parsePage({ first }, DEFAULT_PAGE);
    const rows = await this.loaders.vitalPage.load({ patientId, page });
    return rows.slice(0, page.limit);
  }

  /** Newest first; `totalCount` is counted only when asked for. */
  async vitalSigns<T>(patientId: string, args: PageArgs, map: (row: VitalRow) => T): Promise<Connection<T>> {
    await policy.assert('Patient.vitalSigns', this.access, patientId);
    const page = parsePage(args, DEFAULT_PAGE);
    const rows = await this.loaders.vitalPage.load({ patientId, page });
    return toConnection(rows, page, () => this.loaders.vitalCount.load(patientId), (v) => ({ sort: v.recordedAt, id: v.id }), map);
  }
}
