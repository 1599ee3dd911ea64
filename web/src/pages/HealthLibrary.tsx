/** The health library's topics (HealthTopics, no sign-in needed), searched by words; the search stays in the page, never in the URL. */
import { useEffect, useId, useState, type FormEvent } from 'react';
import { request, type GraphError } from '../graph';
import { HealthTopicsDocument, type HealthTopicsQuery } from '../operations';
import { ErrorNote, Loading } from '../ui';
import { day } from '../words';

type Topic = HealthTopicsQuery['healthTopics'][number];

export function HealthLibrary() {
  const id = useId();
  const [search, setSearch] = useState('');
  const [topics, setTopics] = useState<Topic[]>();
  const [error, setError] = useState<GraphError>();

  const load = async (words: string) => {
    const res = await request(HealthTopicsDocument, { search: words || null });
    setTopics(res.data?.healthTopics ?? []);
    setError(res.data ? undefined : res.errors[0]);
  };

  useEffect(() => {
    void load('');
  }, []);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void load(search.trim());
  };

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Health library</h2>
      <form role="search" onSubmit={submit} className="search">
        <label htmlFor={`${id}-search`}>Search topics</label>
        <input id={`${id}-search`} type="search" value={search} onChange={(e) => setSearch(e.target.value)} maxLength={100} />
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={error} onRetry={() => load(search.trim())} />
      {!topics ? (
        <Loading what="topics" />
      ) : topics.length === 0 ? (
        <p>No topics found.</p>
      ) : (
        <ul className="list">
          {topics.slice(0, 10).map((t) => (
            <li key={t.id}>
              <strong>{t.title}</strong>
              <span>
                {t.summary} <span className="muted">(reviewed {day(t.reviewedAt)})</span>
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
