/**
 * Who looked at my record: the signed-in patient's access log (AccessLog),
 * newest first, a page at a time with the cursor. The patient's own reads are
 * left out unless asked for; a part of the portal whose entries could not be
 * read is named, so a short list is never mistaken for a complete one.
 */
import { useCallback, useEffect, useId, useState } from 'react';
import { request, type GraphError } from '../graph';
import { AccessLogDocument, type AccessLogQuery } from '../operations';
import { ErrorNote, Loading, PageHeading } from '../ui';
import { useRenewals } from '../session';
import { label, when } from '../words';

type Log = NonNullable<NonNullable<NonNullable<AccessLogQuery['me']>['patient']>['accessLog']>;
type Entry = Log['edges'][number]['node'];

const PAGE = 20;

/** A code (CLINICAL_RECORDS, PRACTITIONER) in words: the shared labels, else the code made readable. */
const human = (v: string): string => (label(v) !== v ? label(v) : (v.charAt(0) + v.slice(1).toLowerCase()).replace(/[_-]/g, ' '));

export function AccessLog() {
  const id = useId();
  const [includeOwn, setIncludeOwn] = useState(false);
  const [entries, setEntries] = useState<Entry[]>();
  const [next, setNext] = useState<string | null>(null);
  const [unavailable, setUnavailable] = useState<string[]>([]);
  const [error, setError] = useState<GraphError>();
  const [busy, setBusy] = useState(false);
  const renewals = useRenewals();

  const load = useCallback(
    async (after?: string) => {
      setBusy(true);
      const res = await request(AccessLogDocument, { first: PAGE, after, includeOwnReads: includeOwn });
      setBusy(false);
      const log = res.data?.me?.patient?.accessLog;
      if (!log) return setError(res.errors[0]);
      setError(undefined);
      const nodes = log.edges.map((e) => e.node);
      setEntries((before) => (after ? [...(before ?? []), ...nodes] : nodes));
      setNext(log.pageInfo.hasNextPage ? (log.pageInfo.endCursor ?? null) : null);
      setUnavailable(log.unavailableSources);
    },
    [includeOwn],
  );

  useEffect(() => {
    void load();
  }, [load, renewals]);

  return (
    <>
      <PageHeading>Who looked at my record</PageHeading>
      <p>Everyone who opened or changed your record in the portal, newest first: your care team, pharmacists, and people you gave access to.</p>
      <p>
        <input id={`${id}-own`} type="checkbox" checked={includeOwn} onChange={(e) => setIncludeOwn(e.target.checked)} />{' '}
        <label htmlFor={`${id}-own`}>Include my own reads</label>
      </p>
      {unavailable.length > 0 && (
        <p className="status" role="status">
          Some parts of the portal could not be checked right now ({unavailable.map(human).join(', ')}): their entries are missing from this list.
        </p>
      )}
      <ErrorNote error={error} onRetry={() => load()} />
      {!entries ? (
        !error && <Loading what="the access log" />
      ) : entries.length === 0 ? (
        <p>No one has looked at your record yet.</p>
      ) : (
        <table>
          <caption>Access to your record</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Role</th>
              <th scope="col">What</th>
              <th scope="col">Action</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e, i) => (
              <tr key={`${e.at}-${i}`}>
                <td>{when(e.at)}</td>
                <td>{e.actor.name ?? 'Not named'}</td>
                <td>{e.actor.role === 'SELF' ? 'You' : human(e.actor.role)}</td>
                <td>{human(e.recordKind)}</td>
                <td>{human(e.action)}</td>
                <td>{e.outcome === 'ALLOWED' ? 'Allowed' : 'Denied'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" onClick={() => load(next)} disabled={busy}>
          {busy ? 'Loading…' : 'Show more'}
        </button>
      )}
    </>
  );
}
