/**
 * People who can see my record: the grants the signed-in patient gave
 * (me.proxyGrants), giving one to a person by their DoD ID (the kinds of
 * records and an end date), and revoking one. A parent's access to a minor is
 * not a grant and is not listed here.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { request, type GraphError } from '../graph';
import { GrantProxyAccessDocument, ProxyGrantsDocument, RevokeProxyAccessDocument, type ProxyGrantsQuery, type ProxyScope } from '../operations';
import { ErrorNote, Loading, PageHeading, StatusNote } from '../ui';
import { useRenewals } from '../session';
import { day } from '../words';

type Grant = NonNullable<ProxyGrantsQuery['me']>['proxyGrants'][number];

const SCOPES: { scope: ProxyScope; title: string }[] = [
  { scope: 'APPOINTMENTS', title: 'Appointments' },
  { scope: 'MESSAGES', title: 'Messages' },
  { scope: 'MEDICATIONS', title: 'Medications' },
  { scope: 'RESULTS', title: 'Results' },
  { scope: 'NOTES', title: 'Visit notes' },
  { scope: 'HEALTH_SUMMARY', title: 'Health summary (conditions, allergies, immunizations)' },
];
const titleOf = (s: string) => SCOPES.find((x) => x.scope === s)?.title ?? s;
const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

export function People() {
  const id = useId();
  const [grants, setGrants] = useState<Grant[]>();
  const [error, setError] = useState<GraphError>();
  const [status, setStatus] = useState('');
  const [dodId, setDodId] = useState('');
  const [scopes, setScopes] = useState<ProxyScope[]>(['APPOINTMENTS']);
  const [endsOn, setEndsOn] = useState(inDays(90));
  const [busy, setBusy] = useState(false);
  const renewals = useRenewals();

  const load = useCallback(async () => {
    const res = await request(ProxyGrantsDocument, {});
    const list = res.data?.me?.proxyGrants;
    setGrants(list ?? []);
    if (!list) setError(res.errors[0]);
  }, []);
  useEffect(() => {
    void load();
  }, [load, renewals]);

  const grant = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setStatus('');
    if (scopes.length === 0) return setError({ message: 'Choose at least one kind of record.', extensions: { code: 'BAD_USER_INPUT' } });
    setBusy(true);
    const res = await request(GrantProxyAccessDocument, { dodId: dodId.trim(), scopes, endsOn });
    setBusy(false);
    const given = res.data?.grantProxyAccess;
    if (!given) return setError(res.errors[0]);
    setDodId('');
    setStatus(`${given.proxyName.given} ${given.proxyName.family} can now see your record until ${day(given.endsOn)}.`);
    await load();
  };

  const revoke = async (g: Grant) => {
    setError(undefined);
    setStatus('');
    const res = await request(RevokeProxyAccessDocument, { id: g.id });
    if (!res.data?.revokeProxyAccess) return setError(res.errors[0]);
    setStatus(`${g.proxyName.given} ${g.proxyName.family} can no longer see your record.`);
    await load();
  };

  const active = grants?.filter((g) => g.active) ?? [];

  return (
    <>
      <PageHeading>People who can see my record</PageHeading>
      <ErrorNote error={error} />
      <StatusNote>{status}</StatusNote>
      <section className="card" aria-labelledby={`${id}-list`}>
        <h2 id={`${id}-list`}>Access you have given</h2>
        {!grants ? (
          <Loading what="your grants" />
        ) : active.length === 0 ? (
          <p>No one else can see your record.</p>
        ) : (
          <ul className="list" aria-label="People with access">
            {active.map((g) => (
              <li key={g.id} data-grant={g.id}>
                <strong>
                  {g.proxyName.given} {g.proxyName.family}
                </strong>
                <span>
                  {g.scopes.map(titleOf).join(', ')} · until {day(g.endsOn)}
                </span>
                <button type="button" className="secondary" onClick={() => revoke(g)}>
                  Revoke access for {g.proxyName.given} {g.proxyName.family}
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      <form className="card" onSubmit={grant} aria-labelledby={`${id}-grant`}>
        <h2 id={`${id}-grant`}>Give someone access</h2>
        <label htmlFor={`${id}-dod`}>Their DoD ID</label>
        <input id={`${id}-dod`} inputMode="numeric" required value={dodId} onChange={(e) => setDodId(e.target.value)} />
        <fieldset>
          <legend>What they may see</legend>
          {SCOPES.map((s) => (
            <p key={s.scope}>
              <input
                id={`${id}-${s.scope}`}
                type="checkbox"
                checked={scopes.includes(s.scope)}
                onChange={(e) => setScopes((now) => (e.target.checked ? [...now, s.scope] : now.filter((x) => x !== s.scope)))}
              />{' '}
              <label htmlFor={`${id}-${s.scope}`}>{s.title}</label>
            </p>
          ))}
        </fieldset>
        <label htmlFor={`${id}-ends`}>Until</label>
        <input id={`${id}-ends`} type="date" required value={endsOn} min={inDays(1)} onChange={(e) => setEndsOn(e.target.value)} />
        <button type="submit" disabled={busy}>
          {busy ? 'Giving access…' : 'Give access'}
        </button>
      </form>
    </>
  );
}
