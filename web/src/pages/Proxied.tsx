/**
 * A patient the viewer is a proxy for (a parent's child, a patient who named
 * them): the record pages read through Query.patient(id:) (ProxiedRecord).
 * Each section is a field of its own: one the grant's scopes do not cover
 * comes back null with a FORBIDDEN error at its path, and is shown as a plain
 * sentence, not an error. The patient's id lives only in the app's memory.
 */
import { useCallback, useEffect, useState } from 'react';
import type { Page } from '../App';
import { request, type GraphError } from '../graph';
import { ProxiedRecordDocument, type ProxiedRecordQuery } from '../operations';
import { ErrorNote, Loading, PageHeading } from '../ui';
import { useRenewals } from '../session';
import { day, label, when } from '../words';

type Rec = NonNullable<ProxiedRecordQuery['patient']>;
export interface Whose {
  id: string;
  name: string;
}

const FIELDS = ['appointments', 'messageThreads', 'prescriptions', 'labResults', 'visitNotes'] as const;
type Field = (typeof FIELDS)[number];

const WHAT: { [F in Field]: string } = {
  appointments: 'appointments',
  messageThreads: 'messages',
  prescriptions: 'medications',
  labResults: 'results',
  visitNotes: 'visit notes',
};

function Section({ field, title, whose, errors, retry, children }: { field: Field; title: string; whose: Whose; errors: GraphError[]; retry: () => void; children: React.ReactNode }) {
  const error = errors.find((e) => e.path?.[0] === 'patient' && e.path[1] === field);
  return (
    <section className="card" aria-labelledby={`proxied-${field}`} data-section={field}>
      <h2 id={`proxied-${field}`}>{title}</h2>
      {!error ? (
        children
      ) : error.extensions?.code === 'FORBIDDEN' ? (
        <p>Your access to {whose.name}’s record does not include {WHAT[field]}.</p>
      ) : (
        <ErrorNote error={error} onRetry={retry} retryLabel={`Try ${title.toLowerCase()} again`} />
      )}
    </section>
  );
}

const empty = (what: string) => <p>No {what}.</p>;

export function Proxied({ page, whose }: { page: Exclude<Page, 'record' | 'access' | 'people'>; whose: Whose }) {
  const [answer, setAnswer] = useState<{ patient: Rec | null | undefined; errors: GraphError[] }>();
  const renewals = useRenewals();
  const load = useCallback(async () => {
    const res = await request(ProxiedRecordDocument, { id: whose.id, first: 20 });
    setAnswer({ patient: res.data?.patient, errors: res.errors });
  }, [whose.id]);
  useEffect(() => {
    void load();
  }, [load, renewals]);

  const titles = { home: `${whose.name}’s record`, appointments: 'Appointments', messages: 'Messages', medications: 'Medications', results: 'Results and notes' };
  if (!answer) return <Loading what={`${whose.name}’s record`} />;
  const { patient, errors } = answer;
  const heading = (
    <PageHeading>
      {titles[page]}
      {page !== 'home' ? ` for ${whose.name}` : ''}
    </PageHeading>
  );
  if (!patient) {
    return (
      <>
        {heading}
        <ErrorNote error={errors[0]} onRetry={load} />
      </>
    );
  }
  const props = { whose, errors, retry: load };
  const show = (p: typeof page) => page === 'home' || page === p;

  return (
    <>
      {heading}
      <p>You are viewing {whose.name}’s record as their proxy.</p>
      <div className={page === 'home' ? 'sections' : undefined}>
        {show('appointments') && (
          <Section field="appointments" title="Appointments" {...props}>
            {patient.appointments?.edges.length ? (
              <ul className="list" aria-label={`${whose.name}’s appointments`}>
                {patient.appointments.edges.map(({ node: a }) => (
                  <li key={a.id} data-appointment={a.id}>
                    <strong>{when(a.start, a.clinic.timeZone)}</strong>
                    <span>
                      {label(a.appointmentType)} at {a.clinic.name} · {label(a.status)}
                    </span>
                  </li>
                ))}
              </ul>
            ) : (
              empty('appointments')
            )}
          </Section>
        )}
        {show('messages') && (
          <Section field="messageThreads" title="Messages" {...props}>
            {patient.messageThreads?.edges.length ? (
              <ul className="list">
                {patient.messageThreads.edges.map(({ node: t }) => (
                  <li key={t.id}>
                    <strong>{t.subject}</strong>
                    <span>
                      {t.careTeam?.name ?? 'Care team'} · {day(t.lastMessageAt)}
                    </span>
                  </li>
                ))}
              </ul>
            ) : (
              empty('messages')
            )}
          </Section>
        )}
        {show('medications') && (
          <Section field="prescriptions" title="Medications" {...props}>
            {patient.prescriptions?.length ? (
              <ul className="list">
                {patient.prescriptions.map((p) => (
                  <li key={p.id}>
                    <strong>
                      {p.medication.name} {p.medication.strength ?? ''}
                    </strong>
                    <span>
                      {label(p.status)} · {p.refillsRemaining} refills left · expires {day(p.expiresOn)}
                    </span>
                  </li>
                ))}
              </ul>
            ) : (
              empty('medications')
            )}
          </Section>
        )}
        {show('results') && (
          <>
            <Section field="labResults" title="Results" {...props}>
              {patient.labResults?.edges.length ? (
                <ul className="list">
                  {patient.labResults.edges.map(({ node: r }) => (
                    <li key={r.id}>
                      <strong>{r.testName}</strong>
                      <span>
                        {r.value} {r.unit ?? ''} · {day(r.resultedAt)}
                      </span>
                    </li>
                  ))}
                </ul>
              ) : (
                empty('results')
              )}
            </Section>
            <Section field="visitNotes" title="Visit notes" {...props}>
              {patient.visitNotes?.edges.length ? (
                <ul className="list" aria-label={`${whose.name}’s visit notes`}>
                  {patient.visitNotes.edges.map(({ node: n }) => (
                    <li key={n.id} data-note-type={n.noteType}>
                      <strong>{n.title}</strong>
                      <span>
                        {label(n.noteType)} · {day(n.authoredAt)}
                      </span>
                    </li>
                  ))}
                </ul>
              ) : (
                empty('visit notes')
              )}
            </Section>
          </>
        )}
      </div>
    </>
  );
}
