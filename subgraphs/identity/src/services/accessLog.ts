import type { DataSource } from 'typeorm';
import {
  askAuditEvents,
  auditEventsOfPatient,
  encodeCursor,
  parsePage,
  type Access,
  type AccessLogQuestion,
  type AccessLogRow,
  type PageArgs,
  type Viewer,
} from '@portal/kit';
import type { PersonRow } from '../db/entities';
import type { IdentityLoaders } from '../loaders';
import { policy } from '../policy';

/** Where each subgraph's audit trail is asked: identity's own is read locally, the others over HTTP. */
export interface AccessLogSources {
  /** Base URLs by subgraph name; a name without one is an unavailable source. */
  remote: () => Record<'scheduling' | 'messaging' | 'pharmacy' | 'clinical-records', string | undefined>;
  timeoutMs: number;
}

export interface AccessLogArgs extends PageArgs {
  includeOwnReads?: boolean | null;
}

/** An entry as the schema shows it: a name and a role, never an internal id. */
export interface AccessLogEntryModel {
  at: string;
  actor: { name: string | null; role: string };
  recordKind: string;
  action: string;
  outcome: string;
  subgraph: string;
}

export interface AccessLogConnectionModel {
  edges: { cursor: string; node: AccessLogEntryModel }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  unavailableSources: string[];
}

export const DEFAULT_ACCESS_LOG_PAGE = 20;

/**
 * The patient's access log: each subgraph's audit rows of the patient,
 * merged newest first and keyset-paged by (occurred_at, id) across all of
 * them. Each source is asked for the page size plus one row older than the
 * cursor, which is enough for the merged page and to tell whether more
 * follows. A source that does not answer within the timeout is left out of
 * the page and named; the others stand.
 */
export class AccessLogService {
  constructor(
    private readonly access: Access,
    private readonly loaders: IdentityLoaders,
    private readonly db: DataSource,
    private readonly sources: AccessLogSources,
  ) {}

  async log(patientId: string, args: AccessLogArgs): Promise<AccessLogConnectionModel> {
    await policy.assert('Patient.accessLog', this.access, patientId);
    const viewer = this.access.requireViewer();
    const page = parsePage(args, DEFAULT_ACCESS_LOG_PAGE);
    const question: AccessLogQuestion = {
      limit: page.limit + 1,
      before: page.after ? { occurredAt: page.after.sort, id: page.after.id } : null,
      includeOwnReads: args.includeOwnReads === true,
    };
    const remote = Object.entries(this.sources.remote());
    const answers = await Promise.all([
      auditEventsOfPatient(this.db, viewer.personId, question).catch(() => null),
      ...remote.map(([, url]) => (url ? askAuditEvents(url, viewer, question, this.sources.timeoutMs) : Promise.resolve(null))),
    ]);
    const names = ['identity', ...remote.map(([name]) => name)];
    const unavailableSources = names.filter((_, i) => answers[i] === null);
    const merged = answers
      .flatMap((rows) => rows ?? [])
      .sort((a, b) => (a.occurredAt === b.occurredAt ? compare(b.id, a.id) : compare(b.occurredAt, a.occurredAt)))
      .slice(0, page.limit + 1);
    const slice = merged.slice(0, page.limit);
    const actors = await this.actorsOf(slice, viewer);
    const edges = slice.map((row, i) => ({ cursor: encodeCursor(row.occurredAt, row.id), node: toEntry(row, actors[i], viewer) }));
    return {
      edges,
      pageInfo: { hasNextPage: merged.length > page.limit, endCursor: edges.length ? edges[edges.length - 1].cursor : null },
      unavailableSources,
    };
  }

  /** Every person named on the page in one batched read (the request's person loader). */
  private async actorsOf(rows: AccessLogRow[], viewer: Viewer): Promise<(PersonRow | null)[]> {
    return Promise.all(
      rows.map((r) => (r.actorPersonId && !r.actorPersonId.startsWith('service:') && nameable(toRole(r, viewer)) ? this.loaders.person.load(r.actorPersonId) : null)),
    );
  }
}

/** Byte order, as both databases sort these ASCII keys: never the locale's. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const ROLES: Record<string, string> = {
  PRACTITIONER: 'PRACTITIONER',
  PHARMACIST: 'PHARMACIST',
  PROXY: 'PROXY',
  SERVICE: 'SERVICE',
  ADMIN: 'ADMIN',
  PATIENT: 'PATIENT',
};

/** The role as the log shows it: SELF for the patient's own requests; an unknown role reads as no sign-in. */
function toRole(row: AccessLogRow, viewer: Viewer): string {
  if (row.actorRole === 'PATIENT' && row.actorPersonId === viewer.personId) return 'SELF';
  return ROLES[row.actorRole] ?? 'ANONYMOUS';
}

/** Whose name the log shows from the person table: never another patient's (only a proxy's) and no one unsigned. */
const nameable = (role: string) => role !== 'PATIENT' && role !== 'ANONYMOUS' && role !== 'SERVICE';

/**
 * The schema's view of an audit row. Staff and proxies are named from
 * identity's person table, a service by its client id, the patient as
 * themself; another patient (an attempt on a record that is not theirs) is
 * never named, nor anyone the row does not tie to a person.
 */
export function toEntry(row: AccessLogRow, person: PersonRow | null, viewer: Viewer): AccessLogEntryModel {
  const role = toRole(row, viewer);
  let name: string | null = null;
  if (role === 'SERVICE') name = row.actorPersonId?.startsWith('service:') ? row.actorPersonId.slice('service:'.length) : null;
  else if (nameable(role) && person) name = `${person.givenName} ${person.familyName}`;
  return {
    at: row.occurredAt,
    actor: { name, role },
    recordKind: row.recordKind,
    action: row.action.toUpperCase(),
    outcome: row.outcome,
    subgraph: row.subgraph,
  };
}
