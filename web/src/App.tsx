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
import { SignOutDocument } from './operations';
import { SignIn, type SignedIn } from './pages/SignIn';
import { Home } from './pages/Home';
import { Appointments } from './pages/Appointments';
import { Messages, emptyDrafts, type Drafts } from './pages/Messages';
import { Medications } from './pages/Medications';
import { Results } from './pages/Results';
import { MyRecord } from './pages/Record';
import { Boundary } from './Boundary';

export type Page = 'home' | 'appointments' | 'messages' | 'medications' | 'results' | 'record';

const PAGES: { id: Page; title: string }[] = [
  { id: 'home', title: 'Home' },
  { id: 'appointments', title: 'Appointments' },
  { id: 'messages', title: 'Messages' },
  { id: 'medications', title: 'Medications' },
  { id: 'results', title: 'Results and notes' },
  { id: 'record', title: 'My record' },
];

export function App() {
  const [session, setSession] = useState<SignedIn | null>(null);
  const [ended, setEnded] = useState(false);
  const [page, setPage] = useState<Page>('home');
  const [drafts, setDrafts] = useState<Drafts>(emptyDrafts);
  /** Bumped when another person signs in over an ended session: every page starts afresh. */
  const [generation, setGeneration] = useState(0);
  const [renewals, setRenewals] = useState(0);

  useEffect(() => whenSessionEnds(() => setEnded(true)), []);

  const signedIn = useCallback(
    (next: SignedIn) => {
      setToken(next.accessToken);
      if (session && session.accountId !== next.accountId) {
        // Someone else at the same screen: nothing of the first person stays.
        setDrafts(emptyDrafts);
        setPage('home');
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
    setGeneration((g) => g + 1);
  };

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
          <button type="button" className="secondary" onClick={signOut}>
            Sign out
          </button>
        </header>
        <main id="main" key={`${generation}-${page}`}>
          <Renewals.Provider value={renewals}>
          <Boundary>
          {page === 'home' && <Home go={setPage} />}
          {page === 'appointments' && <Appointments />}
          {page === 'messages' && <Messages drafts={drafts} setDrafts={setDrafts} />}
          {page === 'medications' && <Medications />}
          {page === 'results' && <Results />}
          {page === 'record' && <MyRecord />}
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
