/**
 * The app's frame: sign-in, the page being shown (kept in memory, never in
 * the URL: a page's address must not tell anyone about a person's health),
 * and the session's end. When an answer says the session ended, a sign-in
 * dialog covers the page, which stays as it was underneath (inert): a message
 * being written is still there once the same person has signed in again.
 */
import { useCallback, useEffect, useState } from 'react';
import { Renewals } from './session';
import { request, setToken, whenSessionEnds } from './graph';
import { ProxyForDocument, SignOutDocument, ViewerNameDocument, type ProxyForQuery } from './operations';
import { SignIn, type SignedIn } from './pages/SignIn';
import { Home } from './pages/Home';
import { Appointments } from './pages/Appointments';
import { Messages, emptyDrafts, type Drafts } from './pages/Messages';
import { Medications } from './pages/Medications';
import { Results } from './pages/Results';
import { MyRecord } from './pages/Record';
import { Proxied, type Whose } from './pages/Proxied';
import { AccessLog } from './pages/AccessLog';
import { People } from './pages/People';
import { Boundary } from './Boundary';

export type Page = 'home' | 'appointments' | 'messages' | 'medications' | 'results' | 'record' | 'access' | 'people';
type Proxied = NonNullable<ProxyForQuery['me']>['proxyFor'][number];

const PAGES: { id: Page; title: string }[] = [
  { id: 'home', title: 'Home' },
  { id: 'appointments', title: 'Appointments' },
  { id: 'messages', title: 'Messages' },
  { id: 'medications', title: 'Medications' },
  { id: 'results', title: 'Results and notes' },
  { id: 'record', title: 'My record' },
  { id: 'access', title: 'Who looked at my record' },
  { id: 'people', title: 'People who can see my record' },
];
/** The pages about the signed-in person's own account: shown for them whoever's record is being viewed. */
const OWN_PAGES: readonly Page[] = ['access', 'people'];

export function App() {
  const [session, setSession] = useState<SignedIn | null>(null);
  const [ended, setEnded] = useState(false);
  const [page, setPage] = useState<Page>('home');
  const [drafts, setDrafts] = useState<Drafts>(emptyDrafts);
  /** Bumped when another person signs in over an ended session: every page starts afresh. */
  const [generation, setGeneration] = useState(0);
  const [renewals, setRenewals] = useState(0);
  /** The patients the viewer is a proxy for, and whose record is shown (null: their own). */
  const [proxyFor, setProxyFor] = useState<Proxied[]>([]);
  const [viewing, setViewing] = useState<string | null>(null);
  const [selfName, setSelfName] = useState('');

  useEffect(() => {
    setProxyFor([]);
    setViewing(null);
    if (!session) return;
    void request(ProxyForDocument, {}).then((res) => setProxyFor(res.data?.me?.proxyFor ?? []));
    void request(ViewerNameDocument, {}).then((res) => {
      const n = res.data?.me?.patient?.name;
      setSelfName(n ? `${n.given} ${n.family}` : '');
    });
  }, [session?.accountId]);

  useEffect(() => whenSessionEnds(() => setEnded(true)), []);

  const signedIn = useCallback(
    (next: SignedIn) => {
      setToken(next.accessToken);
      if (session && session.accountId !== next.accountId) {
        // Someone else at the same screen: nothing of the first person stays.
        setDrafts(emptyDrafts);
        setPage('home');
        setViewing(null);
        setGeneration((g) => g + 1);
      }
      else if (session) setRenewals((n) => n + 1);
      setSession(next);
      setEnded(false);
    },
    [session],
  );

  const signOut = async () => {
    await request(SignOutDocument, {}).catch(() => undefined);
    setToken(null);
    setSession(null);
    setEnded(false);
    setDrafts(emptyDrafts);
    setPage('home');
    setViewing(null);
    setGeneration((g) => g + 1);
  };

  const chosen = proxyFor.find((p) => p.patient.id === viewing);
  const whose: Whose | undefined = chosen && { id: chosen.patient.id, name: `${chosen.patient.name.given} ${chosen.patient.name.family}` };
  const proxiedPage = whose && !OWN_PAGES.includes(page) ? page : undefined;

  if (!session) {
    return (
      <main className="signin-page">
        <SignIn onSignedIn={signedIn} />
      </main>
    );
  }

  return (
    <>
      <div className="frame" inert={ended}>
        <a className="skip" href="#main">
          Skip to content
        </a>
        <header className="top">
          <p className="brand">Patient portal</p>
          <nav aria-label="Main">
            <ul>
              {PAGES.map((p) => (
                <li key={p.id}>
                  <button type="button" className="nav" aria-current={page === p.id ? 'page' : undefined} onClick={() => setPage(p.id)}>
                    {p.title}
                  </button>
                </li>
              ))}
            </ul>
          </nav>
          {proxyFor.length > 0 && (
            <p className="viewing">
              <label htmlFor="viewing">Viewing</label>{' '}
              <select id="viewing" value={viewing ?? ''} onChange={(e) => setViewing(e.target.value || null)}>
                <option value="">{selfName || 'My record'} (you)</option>
                {proxyFor.map((p) => (
                  <option key={p.patient.id} value={p.patient.id}>
                    {p.patient.name.given} {p.patient.name.family}
                  </option>
                ))}
              </select>
            </p>
          )}
          <button type="button" className="secondary" onClick={signOut}>
            Sign out
          </button>
        </header>
        <main id="main" key={`${generation}-${page}-${viewing ?? 'self'}`}>
          <Renewals.Provider value={renewals}>
          <Boundary>
          {whose && proxiedPage ? (
            proxiedPage === 'record' ? (
              <MyRecord whose={whose} />
            ) : (
              <Proxied page={proxiedPage as Exclude<Page, 'record' | 'access' | 'people'>} whose={whose} />
            )
          ) : (
            <>
              {page === 'home' && <Home go={setPage} />}
              {page === 'appointments' && <Appointments />}
              {page === 'messages' && <Messages drafts={drafts} setDrafts={setDrafts} />}
              {page === 'medications' && <Medications />}
              {page === 'results' && <Results />}
              {page === 'record' && <MyRecord />}
            </>
          )}
          {page === 'access' && <AccessLog />}
          {page === 'people' && <People />}
          </Boundary>
          </Renewals.Provider>
        </main>
      </div>
      {ended && (
        <div className="overlay">
          <div role="dialog" aria-modal="true" aria-labelledby="session-ended" className="dialog">
            <h2 id="session-ended">Your session has ended</h2>
            <p>For your privacy, you were signed out after a time without activity. Sign in again to carry on: what you were writing is kept.</p>
            <SignIn onSignedIn={signedIn} compact />
          </div>
        </div>
      )}
    </>
  );
}
