/**
 * Secure messages: folders, a thread with its replies, a new message to a
 * care team. Drafts are kept by the app (in memory, in the frame above this
 * page), so a message being written survives moving between pages and the
 * session's end. "Save draft" stores a new message on the server
 * (saveMessageDraft); the Drafts folder opens it for editing, "Save draft"
 * then updates it and "Send message" sends it (sendMessageDraft).
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { idempotencyKey, request, type GraphError } from '../graph';
import {
  DraftThreadDocument,
  MarkThreadReadDocument,
  SaveMessageDraftDocument,
  SendMessageDraftDocument,
  UpdateMessageDraftDocument,
  MessageThreadDocument,
  MessageThreadsDocument,
  ReplyToThreadDocument,
  SendMessageDocument,
  type MessageCategory,
  type MessageFolder,
  type MessageThreadQuery,
  type MessageThreadsQuery,
} from '../operations';
import { ErrorNote, Loading, PageHeading, StatusNote } from '../ui';
import { useRenewals } from '../session';
import { day, label, when } from '../words';

export interface Drafts {
  /** draftId: the server's draft this message was opened from or saved as. */
  compose: { careTeamId: string; category: MessageCategory; subject: string; body: string; draftId?: string };
  /** Replies being written, by thread id. */
  replies: Record<string, string>;
}
export const emptyDrafts: Drafts = { compose: { careTeamId: '', category: 'GENERAL', subject: '', body: '' }, replies: {} };

type ThreadsPatient = NonNullable<NonNullable<MessageThreadsQuery['me']>['patient']>;
type Thread = NonNullable<MessageThreadQuery['messageThread']>;

const FOLDERS: MessageFolder[] = ['INBOX', 'SENT', 'DRAFTS', 'ARCHIVE'];
const CATEGORIES: MessageCategory[] = ['GENERAL', 'APPOINTMENT', 'MEDICATION', 'TEST_RESULT', 'EDUCATION'];

export function Messages({ drafts, setDrafts }: { drafts: Drafts; setDrafts: (f: (d: Drafts) => Drafts) => void }) {
  const id = useId();
  const [folder, setFolder] = useState<MessageFolder>('INBOX');
  const [list, setList] = useState<ThreadsPatient>();
  const [listError, setListError] = useState<GraphError>();
  const [open, setOpen] = useState<Thread>();
  const [composing, setComposing] = useState(() => Boolean(drafts.compose.subject || drafts.compose.body));
  const [error, setError] = useState<GraphError>();
  const [status, setStatus] = useState('');
  const renewals = useRenewals();

  const loadList = useCallback(async () => {
    const res = await request(MessageThreadsDocument, { folder, first: 20 });
    const patient = res.data?.me?.patient;
    // A failed reload keeps what was shown (and the care teams a message being written is addressed to).
    if (patient?.messageThreads) setList(patient);
    setListError(patient?.messageThreads ? undefined : res.errors[0]);
    // renewals: read again once the person has signed in again after the session's end.
  }, [folder, renewals]);

  useEffect(() => {
    void loadList();
  }, [loadList]);

  /** A thread of the Drafts folder opens its draft in the new-message form. */
  const openDraft = async (threadId: string) => {
    setError(undefined);
    setStatus('');
    const res = await request(DraftThreadDocument, { id: threadId });
    const t = res.data?.messageThread;
    if (!t?.draft) return setError(res.errors[0]);
    setDrafts((d) => ({ ...d, compose: { careTeamId: t.careTeam?.id ?? '', category: t.category, subject: t.subject, body: t.draft?.body ?? '', draftId: t.draft?.id } }));
    setOpen(undefined);
    setComposing(true);
  };

  const openThread = async (threadId: string, unread = false) => {
    setError(undefined);
    setStatus('');
    const res = await request(MessageThreadDocument, { id: threadId });
    if (!res.data?.messageThread) return setError(res.errors[0]);
    setOpen(res.data.messageThread);
    setComposing(false);
    if (unread) {
      await request(MarkThreadReadDocument, { threadId });
      void loadList();
    }
  };

  const reply = async (e: FormEvent) => {
    e.preventDefault();
    if (!open) return;
    const body = drafts.replies[open.id] ?? '';
    setError(undefined);
    const res = await request(ReplyToThreadDocument, { threadId: open.id, body, idempotencyKey: idempotencyKey() });
    if (!res.data?.replyToThread) return setError(res.errors[0]);
    setDrafts((d) => ({ ...d, replies: { ...d.replies, [open.id]: '' } }));
    await openThread(open.id);
    setStatus('Your reply was sent.');
  };

  /** Stores the message on the server: a new draft, or the changes to the one it was opened from. */
  const saveDraft = async (): Promise<string | undefined> => {
    const c = drafts.compose;
    const careTeamId = c.careTeamId || list?.careTeams[0]?.id;
    setError(undefined);
    const fields = { careTeamId, category: c.category, subject: c.subject, body: c.body };
    const res = c.draftId
      ? await request(UpdateMessageDraftDocument, { input: { draftId: c.draftId, ...fields } })
      : await request(SaveMessageDraftDocument, { input: fields });
    const draft = res.data && ('updateMessageDraft' in res.data ? res.data.updateMessageDraft : res.data.saveMessageDraft);
    if (!draft) {
      setError(res.errors[0]);
      return undefined;
    }
    setDrafts((d) => ({ ...d, compose: { ...d.compose, draftId: draft.id } }));
    void loadList();
    return draft.id;
  };

  const send = async (e: FormEvent) => {
    e.preventDefault();
    const c = drafts.compose;
    const careTeamId = c.careTeamId || list?.careTeams[0]?.id;
    if (!careTeamId) return setError({ message: 'no care team', extensions: { code: 'SERVICE_UNAVAILABLE' } });
    setError(undefined);
    if (c.draftId) {
      // Save what was typed since, then send the stored draft; it leaves Drafts and appears in Sent.
      const draftId = await saveDraft();
      if (!draftId) return;
      const res = await request(SendMessageDraftDocument, { draftId });
      const sent = res.data?.sendMessageDraft;
      if (!sent) return setError(res.errors[0]);
      setDrafts((d) => ({ ...d, compose: emptyDrafts.compose }));
      await openThread(sent.id);
      setStatus('Your message was sent.');
      void loadList();
      return;
    }
    const res = await request(SendMessageDocument, { careTeamId, category: c.category, subject: c.subject, body: c.body, idempotencyKey: idempotencyKey() });
    const sent = res.data?.sendMessage;
    if (!sent) return setError(res.errors[0]);
    setDrafts((d) => ({ ...d, compose: emptyDrafts.compose }));
    await openThread(sent.id);
    setStatus('Your message was sent.');
    void loadList();
  };

  const compose = drafts.compose;
  const setCompose = (patch: Partial<Drafts['compose']>) => setDrafts((d) => ({ ...d, compose: { ...d.compose, ...patch } }));

  return (
    <>
      <PageHeading>Messages</PageHeading>
      <StatusNote>{status}</StatusNote>
      <ErrorNote error={error} />
      <div className="actions">
        <button
          type="button"
          onClick={() => {
            setComposing(true);
            setOpen(undefined);
            setStatus('');
          }}
        >
          New message
        </button>
      </div>
      <div className="columns">
        <section className="card" aria-labelledby={`${id}-folders`}>
          <h2 id={`${id}-folders`}>Folders</h2>
          <div role="group" aria-label="Folder" className="tabs">
            {FOLDERS.map((f) => (
              <button key={f} type="button" className="nav" aria-pressed={folder === f} onClick={() => setFolder(f)}>
                {label(f)}
                {f === 'INBOX' && list?.unreadMessageCount ? ` (${list.unreadMessageCount} unread)` : ''}
              </button>
            ))}
          </div>
          <ErrorNote error={listError} onRetry={loadList} />
          {!list && !listError ? (
            <Loading what="messages" />
          ) : list?.messageThreads?.edges.length === 0 ? (
            <p>No messages in {label(folder)}.</p>
          ) : (
            <ul className="list threads" aria-label={`${label(folder)} messages`}>
              {list?.messageThreads?.edges.map(({ node: t }) => (
                <li key={t.id} className={t.unread ? 'unread' : undefined}>
                  <button type="button" className="thread" onClick={() => (folder === 'DRAFTS' ? openDraft(t.id) : openThread(t.id, t.unread))}>
                    <strong>{t.subject}</strong>
                    <span>
                      {t.careTeam?.name ?? 'Care team'} · {day(t.lastMessageAt)}
                      {t.unread ? ' · unread' : ''}
                      {t.source === 'TRICARE_ONLINE' ? ' · from TRICARE Online' : ''}
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>

        {open && (
          <section className="card" aria-labelledby={`${id}-thread`}>
            <h2 id={`${id}-thread`}>{open.subject}</h2>
            <p className="muted">
              {label(open.category)} · {open.careTeam?.name}
            </p>
            <ol className="messages" aria-label="Messages in this conversation">
              {open.messages.map((m) => (
                <li key={m.id} className={m.senderRole === 'PATIENT' ? 'mine' : undefined}>
                  <p className="muted">
                    {m.senderName} · {when(m.sentAt)}
                  </p>
                  <p className="body">{m.body}</p>
                </li>
              ))}
            </ol>
            {open.canReply ? (
              <form onSubmit={reply}>
                <label htmlFor={`${id}-reply`}>Your reply</label>
                <textarea
                  id={`${id}-reply`}
                  rows={4}
                  required
                  maxLength={10_000}
                  value={drafts.replies[open.id] ?? ''}
                  onChange={(e) => setDrafts((d) => ({ ...d, replies: { ...d.replies, [open.id]: e.target.value } }))}
                />
                <button type="submit">Send reply</button>
              </form>
            ) : (
              <p className="note">
                {open.source === 'TRICARE_ONLINE'
                  ? 'This conversation was carried over from TRICARE Online and is read-only.'
                  : 'Replies close after 45 days without a new message.'}{' '}
                To write about it, start a new message.
              </p>
            )}
          </section>
        )}

        {composing && (
          <section className="card" aria-labelledby={`${id}-new`}>
            <h2 id={`${id}-new`}>New message</h2>
            <form className="grid-form" onSubmit={send}>
              <label htmlFor={`${id}-team`}>To</label>
              <select id={`${id}-team`} value={compose.careTeamId || list?.careTeams[0]?.id || ''} onChange={(e) => setCompose({ careTeamId: e.target.value })} required>
                {list?.careTeams.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
              </select>
              <label htmlFor={`${id}-category`}>Topic</label>
              <select id={`${id}-category`} value={compose.category} onChange={(e) => setCompose({ category: e.target.value as MessageCategory })}>
                {CATEGORIES.map((c) => (
                  <option key={c} value={c}>
                    {label(c)}
                  </option>
                ))}
              </select>
              <label htmlFor={`${id}-subject`}>Subject</label>
              <input id={`${id}-subject`} required maxLength={200} value={compose.subject} onChange={(e) => setCompose({ subject: e.target.value })} />
              <label htmlFor={`${id}-body`}>Message</label>
              <textarea id={`${id}-body`} rows={6} required maxLength={10_000} value={compose.body} onChange={(e) => setCompose({ body: e.target.value })} />
              <p className="note">For an emergency, call 911.</p>
              <div className="actions">
                <button type="submit">Send message</button>
                <button
                  type="button"
                  onClick={async () => {
                    if (await saveDraft()) setStatus('Your draft was saved. It is in Drafts.');
                  }}
                >
                  Save draft
                </button>
              </div>
            </form>
          </section>
        )}
      </div>
    </>
  );
}
