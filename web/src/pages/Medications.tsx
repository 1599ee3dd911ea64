/**
 * Medications: every prescription, with a refill or a renewal request where
 * the server says one is allowed (refillable, renewable), and otherwise the
 * reason in plain words. A renewal may carry a note to the prescriber.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { idempotencyKey, request, type GraphError } from '../graph';
import { PrescriptionsDocument, RequestRefillDocument, RequestRenewalDocument, type PrescriptionsQuery } from '../operations';
import { ErrorNote, Loading, PageHeading, StatusNote } from '../ui';
import { day, label } from '../words';

type Prescription = NonNullable<NonNullable<NonNullable<PrescriptionsQuery['me']>['patient']>['prescriptions']>[number];

/** Why neither a refill nor a renewal can be asked for (the server decides; this says why in words). */
function whyNot(p: Prescription): string {
  if (p.pendingRequest) return `A ${label(p.pendingRequest.kind).toLowerCase()} request is already waiting (sent ${day(p.pendingRequest.requestedAt)}).`;
  if (p.status === 'DISCONTINUED') return 'Your prescriber stopped this medication, so it cannot be refilled or renewed.';
  if (p.status === 'EXPIRED') return 'This prescription expired too long ago or was already renewed. Ask your care team for a new one.';
  if (p.refillsRemaining > 0) return 'Refills are not due yet.';
  return 'A refill or renewal cannot be requested now.';
}

export function Medications() {
  const id = useId();
  const [list, setList] = useState<Prescription[]>();
  const [listError, setListError] = useState<GraphError>();
  const [renewing, setRenewing] = useState<Prescription>();
  const [note, setNote] = useState('');
  const [error, setError] = useState<GraphError>();
  const [status, setStatus] = useState('');

  const load = useCallback(async () => {
    const res = await request(PrescriptionsDocument, {});
    const rx = res.data?.me?.patient?.prescriptions;
    setList(rx ?? []);
    setListError(rx ? undefined : res.errors[0]);
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const refill = async (p: Prescription) => {
    setError(undefined);
    setStatus('');
    const res = await request(RequestRefillDocument, { prescriptionId: p.id, idempotencyKey: idempotencyKey() });
    if (!res.data?.requestRefill) return setError(res.errors[0]);
    setStatus(`Refill of ${p.medication.name} requested. The pharmacy will let you know when it is ready.`);
    await load();
  };

  const renew = async (e: FormEvent) => {
    e.preventDefault();
    if (!renewing) return;
    setError(undefined);
    setStatus('');
    const res = await request(RequestRenewalDocument, { prescriptionId: renewing.id, note: note || null });
    if (!res.data?.requestRenewal) return setError(res.errors[0]);
    setStatus(`Renewal of ${renewing.medication.name} requested. You will get a message when it is decided.`);
    setRenewing(undefined);
    setNote('');
    await load();
  };

  return (
    <>
      <PageHeading>Medications</PageHeading>
      <StatusNote>{status}</StatusNote>
      <ErrorNote error={error} />
      <ErrorNote error={listError} onRetry={load} />
      {!list ? (
        <Loading what="medications" />
      ) : (
        <ul className="cards" aria-label="Your prescriptions">
          {list.map((p) => (
            <li key={p.id} className="card" data-prescription={p.id}>
              <h2>
                {p.medication.name} {p.medication.strength} <span className="muted">({label(p.status)})</span>
              </h2>
              <p>{p.directions}</p>
              <p className="muted">
                {p.refillsRemaining} of {p.refillsAuthorized} refills left · written {day(p.writtenOn)} · expires {day(p.expiresOn)} · Dr. {p.prescriber.name.family}
              </p>
              {p.pendingRequest && (
                <p>
                  {label(p.pendingRequest.kind)} request: {label(p.pendingRequest.status)}
                </p>
              )}
              <div className="actions">
                {p.refillable && (
                  <button type="button" onClick={() => refill(p)}>
                    Request refill<span className="visually-hidden"> of {p.medication.name}</span>
                  </button>
                )}
                {p.renewable && (
                  <button type="button" onClick={() => setRenewing(p)}>
                    Request renewal<span className="visually-hidden"> of {p.medication.name}</span>
                  </button>
                )}
              </div>
              {!p.refillable && !p.renewable && <p className="note">{whyNot(p)}</p>}
              {renewing?.id === p.id && (
                <form className="inline-form" onSubmit={renew}>
                  <label htmlFor={`${id}-note`}>Note to your prescriber (optional)</label>
                  <textarea id={`${id}-note`} rows={3} maxLength={1000} value={note} onChange={(e) => setNote(e.target.value)} />
                  <div className="actions">
                    <button type="submit">Send renewal request</button>
                    <button type="button" className="secondary" onClick={() => setRenewing(undefined)}>
                      Not now
                    </button>
                  </div>
                </form>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
