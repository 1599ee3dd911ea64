/**
 * Appointments: the person's own (cancel, move to another slot), and finding
 * a free slot by clinic, type and dates to book it. Refusals (a slot taken
 * meanwhile, an appointment that has started) are told in plain words.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { idempotencyKey, request, type GraphError } from '../graph';
import {
  AvailableSlotsDocument,
  BookAppointmentDocument,
  CancelAppointmentDocument,
  ClinicsDocument,
  MyAppointmentsDocument,
  RescheduleAppointmentDocument,
  type AppointmentType,
  type AvailableSlotsQuery,
  type ClinicsQuery,
  type MyAppointmentsQuery,
} from '../operations';
import { ErrorNote, Loading, PageHeading, StatusNote } from '../ui';
import { label, when } from '../words';

type Appointment = NonNullable<NonNullable<NonNullable<MyAppointmentsQuery['me']>['patient']>['appointments']>['edges'][number]['node'];
type Clinic = ClinicsQuery['clinics'][number];
type Slot = AvailableSlotsQuery['availableSlots'][number];

const isoDay = (d: Date) => d.toISOString().slice(0, 10);
const inDays = (n: number) => isoDay(new Date(Date.now() + n * 86_400_000));

export function Appointments() {
  const id = useId();
  const [mine, setMine] = useState<Appointment[]>();
  const [mineError, setMineError] = useState<GraphError>();
  const [clinics, setClinics] = useState<Clinic[]>([]);
  const [clinicId, setClinicId] = useState('');
  const [type, setType] = useState<AppointmentType | ''>('');
  const [from, setFrom] = useState(inDays(1));
  const [to, setTo] = useState(inDays(14));
  const [reason, setReason] = useState('');
  const [slots, setSlots] = useState<Slot[]>();
  const [error, setError] = useState<GraphError>();
  const [status, setStatus] = useState('');
  const [moving, setMoving] = useState<Appointment>();
  const [cancelling, setCancelling] = useState<Appointment>();
  const [cancelReason, setCancelReason] = useState('');

  const loadMine = useCallback(async () => {
    const res = await request(MyAppointmentsDocument, { first: 20 });
    const list = res.data?.me?.patient?.appointments?.edges.map((e) => e.node);
    setMine(list ?? []);
    setMineError(list ? undefined : res.errors[0]);
  }, []);

  useEffect(() => {
    void loadMine();
    void request(ClinicsDocument, {}).then((res) => {
      const list = res.data?.clinics ?? [];
      setClinics(list);
      if (list[0]) {
        setClinicId(list[0].id);
        setType(list[0].appointmentTypes[0] ?? '');
      } else setError(res.errors[0]);
    });
  }, [loadMine]);

  const clinic = clinics.find((c) => c.id === clinicId);

  const find = async (e: FormEvent) => {
    e.preventDefault();
    if (!type) return;
    setError(undefined);
    setStatus('');
    const res = await request(AvailableSlotsDocument, { clinicId, appointmentType: type, from: `${from}T00:00:00Z`, to: `${to}T23:59:59Z` });
    if (!res.data) return setError(res.errors[0]);
    setSlots(res.data.availableSlots.slice(0, 12));
  };

  const choose = async (slot: Slot) => {
    setError(undefined);
    setStatus('');
    if (moving) {
      const res = await request(RescheduleAppointmentDocument, { appointmentId: moving.id, slotId: slot.id });
      if (!res.data?.rescheduleAppointment) return setError(res.errors[0]);
      setStatus(`Your appointment was moved to ${when(res.data.rescheduleAppointment.start, clinic?.timeZone)}.`);
      setMoving(undefined);
    } else {
      const res = await request(BookAppointmentDocument, { slotId: slot.id, reason: reason || null, idempotencyKey: idempotencyKey() });
      const booked = res.data?.bookAppointment;
      if (!booked) return setError(res.errors[0]);
      setStatus(`Booked: ${label(booked.appointmentType)} at ${booked.clinic.name}, ${when(booked.start, clinic?.timeZone)}.`);
      setReason('');
    }
    setSlots((s) => s?.filter((x) => x.id !== slot.id));
    await loadMine();
  };

  const cancel = async (e: FormEvent) => {
    e.preventDefault();
    if (!cancelling) return;
    setError(undefined);
    const res = await request(CancelAppointmentDocument, { appointmentId: cancelling.id, reason: cancelReason || null });
    if (!res.data?.cancelAppointment) return setError(res.errors[0]);
    setStatus(`Your appointment on ${when(cancelling.start)} was cancelled.`);
    setCancelling(undefined);
    setCancelReason('');
    await loadMine();
  };

  return (
    <>
      <PageHeading>Appointments</PageHeading>
      <StatusNote>{status}</StatusNote>
      <ErrorNote error={error} />

      <section className="card" aria-labelledby={`${id}-mine`}>
        <h2 id={`${id}-mine`}>Your appointments</h2>
        <ErrorNote error={mineError} onRetry={loadMine} />
        {!mine ? (
          <Loading what="appointments" />
        ) : mine.length === 0 ? (
          <p>You have no appointments.</p>
        ) : (
          <ul className="list" aria-label="Your appointments">
            {mine.map((a) => (
              <li key={a.id} data-appointment={a.id}>
                <strong>{when(a.start)}</strong>
                <span>
                  {label(a.appointmentType)} · {label(a.status)}
                  {a.visitNote ? ` · visit note: ${a.visitNote.title}` : ''}
                </span>
                {a.cancellable && (
                  <span className="actions">
                    <button type="button" className="secondary" onClick={() => setCancelling(a)}>
                      Cancel<span className="visually-hidden"> appointment on {when(a.start)}</span>
                    </button>
                    <button type="button" className="secondary" onClick={() => setMoving(a)}>
                      Move<span className="visually-hidden"> appointment on {when(a.start)}</span>
                    </button>
                  </span>
                )}
              </li>
            ))}
          </ul>
        )}
        {cancelling && (
          <form className="inline-form" onSubmit={cancel} aria-label="Cancel appointment">
            <p>Cancel your appointment on {when(cancelling.start)}?</p>
            <label htmlFor={`${id}-cancel-reason`}>Reason (optional)</label>
            <input id={`${id}-cancel-reason`} value={cancelReason} onChange={(e) => setCancelReason(e.target.value)} maxLength={500} />
            <div className="actions">
              <button type="submit">Yes, cancel it</button>
              <button type="button" className="secondary" onClick={() => setCancelling(undefined)}>
                Keep it
              </button>
            </div>
          </form>
        )}
      </section>

      <section className="card" aria-labelledby={`${id}-find`}>
        <h2 id={`${id}-find`}>{moving ? `Choose a new time for ${when(moving.start)}` : 'Find a time'}</h2>
        {moving && (
          <button type="button" className="link" onClick={() => setMoving(undefined)}>
            Stop moving this appointment
          </button>
        )}
        <form className="grid-form" onSubmit={find}>
          <label htmlFor={`${id}-clinic`}>Clinic</label>
          <select
            id={`${id}-clinic`}
            value={clinicId}
            onChange={(e) => {
              setClinicId(e.target.value);
              setType(clinics.find((c) => c.id === e.target.value)?.appointmentTypes[0] ?? '');
              setSlots(undefined);
            }}
          >
            {clinics.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
          <label htmlFor={`${id}-type`}>Type of visit</label>
          <select id={`${id}-type`} value={type} onChange={(e) => setType(e.target.value as AppointmentType)}>
            {clinic?.appointmentTypes.map((t) => (
              <option key={t} value={t}>
                {label(t)}
              </option>
            ))}
          </select>
          <label htmlFor={`${id}-from`}>From</label>
          <input id={`${id}-from`} type="date" value={from} onChange={(e) => setFrom(e.target.value)} required />
          <label htmlFor={`${id}-to`}>To</label>
          <input id={`${id}-to`} type="date" value={to} onChange={(e) => setTo(e.target.value)} required />
          {!moving && (
            <>
              <label htmlFor={`${id}-reason`}>Reason for the visit (optional)</label>
              <input id={`${id}-reason`} value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} />
            </>
          )}
          <button type="submit">Find times</button>
        </form>
        {slots && (slots.length === 0 ? <p>No free times in these dates. Try other dates.</p> : null)}
        {slots && slots.length > 0 && (
          <ul className="list" aria-label="Free times">
            {slots.map((s) => (
              <li key={s.id}>
                <strong>{when(s.start, clinic?.timeZone)}</strong>
                <span>
                  {label(s.appointmentType)}
                  {s.practitioner ? ` with Dr. ${s.practitioner.name.family}` : ''}
                </span>
                <button type="button" onClick={() => choose(s)}>
                  {moving ? 'Move here' : 'Book'}
                  <span className="visually-hidden"> {when(s.start, clinic?.timeZone)}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
