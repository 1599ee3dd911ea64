/**
 * Home: the portal view in one request (PortalView). The graph answers what it
 * could fetch; a section whose subgraph is down comes back null with an error
 * whose path names it (me.patient.<field>). Each section shows its own error
 * and a retry, and the others render as usual.
 */
import { useCallback, useEffect, useState } from 'react';
import type { Page } from '../App';
import { request, type GraphError } from '../graph';
import { PortalViewDocument, type PortalViewQuery } from '../operations';
import { ErrorNote, Loading, PageHeading } from '../ui';
import { useRenewals } from '../session';
import { day, label, when } from '../words';

type Patient = NonNullable<NonNullable<PortalViewQuery['me']>['patient']>;

/** Which of the patient's fields each section shows. */
const SECTIONS = {
  appointments: ['upcomingAppointments'],
  messages: ['unreadMessageCount', 'messageThreads'],
  prescriptions: ['prescriptions'],
  results: ['labResults', 'visitNotes'],
} as const;
type Section = keyof typeof SECTIONS;

/** The error of one section: one whose path is me.patient.<a field of the section>(...). */
export function sectionError(errors: readonly GraphError[], section: Section): GraphError | undefined {
  const fields: readonly string[] = SECTIONS[section];
  return errors.find((e) => e.path?.[0] === 'me' && e.path[1] === 'patient' && fields.includes(String(e.path[2])));
}

export function Home({ go }: { go: (page: Page) => void }) {
  const [answer, setAnswer] = useState<{ patient: Patient | null | undefined; errors: GraphError[] }>();
  const [retrying, setRetrying] = useState<Section>();
  const renewals = useRenewals();

  const load = useCallback(async (section?: Section) => {
    setRetrying(section);
    const res = await request(PortalViewDocument, {});
    setRetrying(undefined);
    setAnswer({ patient: res.data?.me?.patient, errors: res.errors });
  }, []);

  useEffect(() => {
    void load();
  }, [load, renewals]);

  if (!answer) return <Loading what="your portal" />;
  const { patient, errors } = answer;
  if (!patient) {
    return (
      <>
        <PageHeading>Home</PageHeading>
        <ErrorNote error={errors[0] ?? { message: 'no patient record' }} onRetry={() => load()} />
      </>
    );
  }

  const sectionState = (section: Section) => ({ error: sectionError(errors, section), retry: () => load(section), busy: retrying === section });

  return (
    <>
      <PageHeading>
        Welcome, {patient.name.given} {patient.name.family}
      </PageHeading>
      <div className="sections">
        <HomeSection id="appointments" title="Upcoming appointments" state={sectionState('appointments')} more={() => go('appointments')} moreLabel="All appointments">
          {patient.upcomingAppointments?.length ? (
            <ul className="list">
              {patient.upcomingAppointments.map((a) => (
                <li key={a.id}>
                  <strong>{when(a.start, a.clinic.timeZone)}</strong>
                  <span>
                    {label(a.appointmentType)} at {a.clinic.name}
                    {a.practitioner ? ` with Dr. ${a.practitioner.name.family}` : ''}
                  </span>
                </li>
              ))}
            </ul>
          ) : (
            <p>No upcoming appointments.</p>
          )}
        </HomeSection>

        <HomeSection id="messages" title="Messages" state={sectionState('messages')} more={() => go('messages')} moreLabel="Open messages">
          {patient.messageThreads && (
            <>
              <p>
                <strong>{patient.unreadMessageCount ?? 0}</strong> unread
              </p>
              <ul className="list">
                {patient.messageThreads.edges.map(({ node: t }) => (
                  <li key={t.id} className={t.unread ? 'unread' : undefined}>
                    <strong>{t.subject}</strong>
                    <span>
                      {t.careTeam?.name ?? 'Care team'} · {day(t.lastMessageAt)}
                      {t.unread ? ' · unread' : ''}
                    </span>
                  </li>
                ))}
              </ul>
            </>
          )}
        </HomeSection>

        <HomeSection id="prescriptions" title="Prescriptions" state={sectionState('prescriptions')} more={() => go('medications')} moreLabel="All medications">
          {patient.prescriptions && (
            <ul className="list">
              {patient.prescriptions.map((p) => (
                <li key={p.id}>
                  <strong>{p.medication.name}</strong>
                  <span>
                    {p.refillsRemaining} refills left · expires {day(p.expiresOn)}
                    {p.renewable ? ' · renewal needed' : ''}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </HomeSection>

        <HomeSection id="results" title="Recent results" state={sectionState('results')} more={() => go('results')} moreLabel="All results and notes">
          {patient.labResults && (
            <ul className="list">
              {patient.labResults.edges.map(({ node: r }) => (
                <li key={r.id}>
                  <strong>{r.testName}</strong>
                  <span>
                    {r.value} {r.unit ?? ''}
                    {r.interpretation && r.interpretation !== 'NORMAL' ? <span className={`flag flag-${r.interpretation}`}> {label(r.interpretation)}</span> : null} ·{' '}
                    {day(r.resultedAt)}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </HomeSection>
      </div>
    </>
  );
}

function HomeSection({
  id,
  title,
  state,
  more,
  moreLabel,
  children,
}: {
  id: string;
  title: string;
  state: { error: GraphError | undefined; retry: () => void; busy: boolean };
  more: () => void;
  moreLabel: string;
  children: React.ReactNode;
}) {
  return (
    <section className="card" aria-labelledby={`home-${id}`} data-section={id}>
      <h2 id={`home-${id}`}>{title}</h2>
      {state.error ? (
        <ErrorNote error={state.error} onRetry={state.busy ? undefined : state.retry} retryLabel={`Try ${title.toLowerCase()} again`} />
      ) : (
        <>
          {children}
          <button type="button" className="link" onClick={more}>
            {moreLabel}
          </button>
        </>
      )}
    </section>
  );
}
