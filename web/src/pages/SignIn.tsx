/**
 * DS Logon sign-in (username and password): the contract's SignInWithDsLogon.
 * And a smart card (CAC/PIV) through the browser: SignInWithClientCertificate,
 * which works only when the page came over HTTPS with the card's certificate
 * in the TLS handshake (or through a trusted proxy that passes it on);
 * otherwise the server's refusal is told in plain words.
 */
import { useId, useState, type FormEvent } from 'react';
import { request, type GraphError } from '../graph';
import { SignInWithClientCertificateDocument, SignInWithDsLogonDocument } from '../operations';
import { ErrorNote } from '../ui';

export interface SignedIn {
  accessToken: string;
  expiresAt: string;
  accountId: string;
}

export function SignIn({ onSignedIn, compact = false }: { onSignedIn: (s: SignedIn) => void; compact?: boolean }) {
  const id = useId();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<GraphError>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const res = await request(SignInWithDsLogonDocument, { username, password }, { anonymous: true });
    setBusy(false);
    const signedIn = res.data?.signInWithDsLogon;
    if (!signedIn) return setError(res.errors[0]);
    setPassword('');
    onSignedIn({ accessToken: signedIn.accessToken, expiresAt: signedIn.expiresAt, accountId: signedIn.account.id });
  };

  const smartCard = async () => {
    setBusy(true);
    setError(undefined);
    const res = await request(SignInWithClientCertificateDocument, {}, { anonymous: true });
    setBusy(false);
    const signedIn = res.data?.signInWithClientCertificate;
    if (!signedIn) return setError(res.errors[0]);
    onSignedIn({ accessToken: signedIn.accessToken, expiresAt: signedIn.expiresAt, accountId: signedIn.account.id });
  };

  return (
    <form className="card signin" onSubmit={submit} aria-labelledby={`${id}-title`}>
      {compact ? (
        <h3 id={`${id}-title`}>Sign in with DS Logon</h3>
      ) : (
        <>
          <h1 id={`${id}-title`}>Sign in to the patient portal</h1>
          <p>Use your DS Logon username and password.</p>
        </>
      )}
      <label htmlFor={`${id}-user`}>Username</label>
      <input id={`${id}-user`} name="username" autoComplete="username" required autoFocus={compact} value={username} onChange={(e) => setUsername(e.target.value)} />
      <label htmlFor={`${id}-password`}>Password</label>
      <input id={`${id}-password`} name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      <ErrorNote error={error} />
      <button type="submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
      {!compact && (
        <>
          <p>Or use your CAC or PIV card in this computer’s card reader.</p>
          <button type="button" className="secondary" onClick={smartCard} disabled={busy}>
            Sign in with a smart card
          </button>
        </>
      )}
    </form>
  );
}
