/**
 * Download my record: the gateway's FHIR route (GET /fhir/Patient/$everything)
 * with the person's token in the Authorization header, saved as a file. The
 * bundle goes from the answer to a blob and a download; it is never put in the
 * URL or kept by the app.
 */
import { useState } from 'react';
import { currentToken, noteSessionEnd, type GraphError } from '../graph';
import { ErrorNote, PageHeading, StatusNote } from '../ui';

const CODE_OF_STATUS: Record<number, string> = { 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 429: 'RATE_LIMITED', 503: 'SERVICE_UNAVAILABLE' };

/** `whose`: a patient the viewer is a proxy for (the route's ?patient=, in the request only, never the page's address). */
export function MyRecord({ whose }: { whose?: { id: string; name: string } } = {}) {
  const [error, setError] = useState<GraphError>();
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);

  const download = async () => {
    setError(undefined);
    setStatus('');
    setBusy(true);
    try {
      const res = await fetch(whose ? `/fhir/Patient/$everything?patient=${encodeURIComponent(whose.id)}` : '/fhir/Patient/$everything', { headers: { authorization: `Bearer ${currentToken() ?? ''}`, accept: 'application/fhir+json' } });
      const text = await res.text();
      if (!res.ok) {
        // The route answers a FHIR OperationOutcome; its HTTP status says which of the graph's codes it is.
        const code = CODE_OF_STATUS[res.status] ?? 'INTERNAL_SERVER_ERROR';
        const errors: GraphError[] = [{ message: 'The record could not be downloaded.', extensions: { code } }];
        noteSessionEnd(errors);
        return setError(errors[0]);
      }
      const entries = (JSON.parse(text).entry ?? []).length;
      const url = URL.createObjectURL(new Blob([text], { type: 'application/fhir+json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `health-record-${new Date().toISOString().slice(0, 10)}.json`;
      document.body.append(a);
      a.click();
      a.remove();
      // The link has been followed: the blob is not kept.
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      setStatus(`${whose ? `${whose.name}’s` : 'Your'} record was downloaded (${entries} entries).`);
    } catch {
      setError({ message: 'The portal could not be reached. Check your connection.', extensions: { code: 'NETWORK_ERROR' } });
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeading>{whose ? `${whose.name}’s record` : 'My record'}</PageHeading>
      <section className="card">
        <h2>{whose ? `Download ${whose.name}’s record` : 'Download my record'}</h2>
        <p>
          Your health record as one file in the FHIR standard (a JSON “Bundle”): appointments, prescriptions, results, notes, conditions, allergies and
          immunizations. Keep it somewhere safe: anyone with the file can read it.
        </p>
        <ErrorNote error={error} onRetry={download} />
        <StatusNote>{status}</StatusNote>
        <button type="button" onClick={download} disabled={busy}>
          {busy ? 'Preparing…' : whose ? `Download ${whose.name}’s record` : 'Download my record'}
        </button>
      </section>
    </>
  );
}
