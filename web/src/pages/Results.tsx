/**
 * Lab results with their reference ranges, flags and a small trend of the
 * same test's earlier values; visit notes with the appointment they belong to;
 * the health library.
 */
import { useCallback, useEffect, useId, useState } from 'react';
import { request, type GraphError } from '../graph';
import { LabResultsDocument, VisitNotesDocument, type LabResultsQuery, type VisitNotesQuery } from '../operations';
import { ErrorNote, Loading, PageHeading } from '../ui';
import { day, label, when } from '../words';
import { HealthLibrary } from './HealthLibrary';

type Result = NonNullable<NonNullable<NonNullable<LabResultsQuery['me']>['patient']>['labResults']>['edges'][number]['node'];
type Note = NonNullable<NonNullable<NonNullable<VisitNotesQuery['me']>['patient']>['visitNotes']>['edges'][number]['node'];

export function Results() {
  const id = useId();
  const [results, setResults] = useState<Result[]>();
  const [resultsError, setResultsError] = useState<GraphError>();
  const [notes, setNotes] = useState<Note[]>();
  const [notesError, setNotesError] = useState<GraphError>();
  const [openNote, setOpenNote] = useState<string>();

  const loadResults = useCallback(async () => {
    const res = await request(LabResultsDocument, { first: 20 });
    const list = res.data?.me?.patient?.labResults?.edges.map((e) => e.node);
    setResults(list ?? []);
    setResultsError(list ? undefined : res.errors[0]);
  }, []);
  const loadNotes = useCallback(async () => {
    const res = await request(VisitNotesDocument, { first: 10 });
    const list = res.data?.me?.patient?.visitNotes?.edges.map((e) => e.node);
    setNotes(list ?? []);
    setNotesError(list ? undefined : res.errors[0]);
  }, []);

  useEffect(() => {
    void loadResults();
    void loadNotes();
  }, [loadResults, loadNotes]);

  return (
    <>
      <PageHeading>Results and notes</PageHeading>
      <section className="card" aria-labelledby={`${id}-results`}>
        <h2 id={`${id}-results`}>Test results</h2>
        <ErrorNote error={resultsError} onRetry={loadResults} />
        {!results ? (
          <Loading what="results" />
        ) : (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Your test results, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Test</th>
                  <th scope="col">Result</th>
                  <th scope="col">Reference range</th>
                  <th scope="col">Flag</th>
                  <th scope="col">Date</th>
                  <th scope="col">Trend</th>
                </tr>
              </thead>
              <tbody>
                {results.map((r) => (
                  <tr key={r.id}>
                    <th scope="row">{r.testName}</th>
                    <td>
                      {r.value} {r.unit ?? ''}
                    </td>
                    <td>{r.referenceRange?.text ?? (r.referenceRange ? `${r.referenceRange.low ?? ''}–${r.referenceRange.high ?? ''} ${r.unit ?? ''}` : '—')}</td>
                    <td>{r.interpretation ? <span className={`flag flag-${r.interpretation}`}>{label(r.interpretation)}</span> : '—'}</td>
                    <td>{day(r.resultedAt)}</td>
                    <td>
                      <Trend name={r.testName} points={[...r.history, { value: r.value, resultedAt: r.resultedAt }]} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="card" aria-labelledby={`${id}-notes`}>
        <h2 id={`${id}-notes`}>Visit notes</h2>
        <ErrorNote error={notesError} onRetry={loadNotes} />
        {!notes ? (
          <Loading what="visit notes" />
        ) : notes.length === 0 ? (
          <p>No visit notes yet.</p>
        ) : (
          <ul className="list">
            {notes.map((n) => (
              <li key={n.id}>
                <button type="button" className="thread" aria-expanded={openNote === n.id} onClick={() => setOpenNote(openNote === n.id ? undefined : n.id)}>
                  <strong>{n.title}</strong>
                  <span>
                    {day(n.authoredAt)} · Dr. {n.author?.name.family}
                    {n.appointment ? ` · visit of ${when(n.appointment.start)} at ${n.appointment.clinic.name}` : ''}
                  </span>
                </button>
                {openNote === n.id && <p className="body">{n.text}</p>}
              </li>
            ))}
          </ul>
        )}
      </section>

      <HealthLibrary />
    </>
  );
}

/** A small line of the test's numeric values over time; its text alternative lists them. */
function Trend({ name, points }: { name: string; points: { value: string; resultedAt: string }[] }) {
  const values = points
    .map((p) => ({ at: Date.parse(p.resultedAt), v: Number.parseFloat(p.value) }))
    .filter((p) => Number.isFinite(p.v))
    .sort((a, b) => a.at - b.at);
  if (values.length < 2) return <span className="muted">—</span>;
  const w = 80;
  const h = 24;
  const min = Math.min(...values.map((p) => p.v));
  const max = Math.max(...values.map((p) => p.v));
  const x = (i: number) => (i / (values.length - 1)) * (w - 4) + 2;
  const y = (v: number) => (max === min ? h / 2 : h - 2 - ((v - min) / (max - min)) * (h - 4));
  const path = values.map((p, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
  return (
    <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`${name} trend: ${values.map((p) => p.v).join(', ')}`}>
      <path d={path} fill="none" stroke="currentColor" strokeWidth="2" />
    </svg>
  );
}
