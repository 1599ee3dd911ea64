/**
 * A steady PortalView load, as Jane's app would send it, from a few clients
 * at once; every answer is timed and classified.
 */
import fs from 'node:fs';
import path from 'node:path';

export type Outcome = 'full' | 'partial' | 'failed';

/** One answer, reduced to what the fault checks need (no health data is kept). */
export interface Sample {
  /** Epoch milliseconds when the request was sent and when its answer was read. */
  start: number;
  end: number;
  outcome: Outcome;
  status: number;
  /** For a failed answer, what it was: `HTTP 503 SERVICE_UNAVAILABLE`, `HTTP 200 INTERNAL_SERVER_ERROR without path`, `no answer: ...`. */
  kind: string;
  /** Each error's code and path (`SERVICE_UNAVAILABLE at me.patient.prescriptions`). */
  errors: { code?: string; path?: string }[];
  /** The PortalView sections that came back null (`me`, `me.patient`, `me.patient.prescriptions`, ...). */
  missing: string[];
  /** An error carried an internal detail (an address, a driver error, a stack). */
  leak: boolean;
}

/** The sections of PortalView: each comes from one subgraph (`me.account` and the patient's identity from identity). */
export const PORTAL_SECTIONS = ['upcomingAppointments', 'unreadMessageCount', 'messageThreads', 'prescriptions', 'labResults', 'visitNotes'] as const;

const LEAK = /127\.0\.0\.1|localhost|ECONN|ETIMEDOUT|EPIPE|socket hang up|fetch failed|stacktrace|\n\s+at |QueryFailedError|SELECT |INSERT |UPDATE |relation "|postgres/i;

/** Classifies one HTTP answer to PortalView. */
export function classify(status: number, body: any, start: number, end: number): Sample {
  const rawErrors: any[] = Array.isArray(body?.errors) ? body.errors : [];
  const errors = rawErrors.map((e) => ({
    code: typeof e?.extensions?.code === 'string' ? e.extensions.code : undefined,
    path: Array.isArray(e?.path) ? e.path.join('.') : undefined,
  }));
  const me = body?.data?.me;
  const missing: string[] = [];
  if (body?.data && !me) missing.push('me');
  else if (me) {
    if (!me.account) missing.push('me.account');
    if (!me.patient) missing.push('me.patient');
    else for (const s of PORTAL_SECTIONS) if (me.patient[s] === null || me.patient[s] === undefined) missing.push(`me.patient.${s}`);
  }
  const leak = rawErrors.some((e) => LEAK.test(JSON.stringify(e)));
  const base = { start, end, status, errors, missing, leak };
  if (status === 200 && body?.data && errors.length === 0) return { ...base, outcome: 'full', kind: 'full' };
  // Partial: data, and every error names its place and says "unavailable", so a client shows the rest and retries that part.
  if (status === 200 && body?.data && errors.every((e) => e.path && e.code === 'SERVICE_UNAVAILABLE')) return { ...base, outcome: 'partial', kind: 'partial' };
  const codes = [...new Set(errors.map((e) => `${e.code ?? 'no code'}${e.path ? '' : ' without path'}`))].sort().join(', ');
  return { ...base, outcome: 'failed', kind: `HTTP ${status} ${codes || (body?.data ? 'no errors' : 'no data')}` };
}

/** Reads one named operation from schema/operations/portal.graphql, exactly as clients send it. */
export function portalOperation(name: string): string {
  const text = fs.readFileSync(path.resolve(__dirname, '..', '..', 'schema', 'operations', 'portal.graphql'), 'utf8');
  const start = text.search(new RegExp(`^(query|mutation) ${name}\\b`, 'm'));
  if (start < 0) throw new Error(`no operation ${name}`);
  const rest = text.slice(start);
  const end = rest.slice(1).search(/^(query|mutation|#) /m);
  return end < 0 ? rest : rest.slice(0, end + 1);
}

const PORTAL_VIEW = portalOperation('PortalView');

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** POSTs one operation to the gateway; never throws: a transport failure is a failed sample. */
export async function send(graphqlUrl: string, query: string, variables: Record<string, unknown>, token: string | undefined, timeoutMs: number): Promise<Sample> {
  const start = Date.now();
  try {
    const res = await fetch(graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return classify(res.status, body, start, Date.now());
  } catch (e) {
    const reason = (e as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'no answer: connection failed';
    return { start, end: Date.now(), outcome: 'failed', status: 0, kind: reason, errors: [], missing: [], leak: false };
  }
}

/** Signs in through the graph (DS Logon), as the app does; retried while the stack settles. */
export async function signIn(graphqlUrl: string, username: string, password: string, timeoutMs = 60_000): Promise<string> {
  const query = portalOperation('SignInWithDsLogon');
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables: { username, password } }),
        signal: AbortSignal.timeout(15_000),
      });
      const body = (await res.json()) as any;
      const token = body?.data?.signInWithDsLogon?.accessToken;
      if (typeof token === 'string') return token;
      last = JSON.stringify(body?.errors?.map((e: any) => e?.extensions?.code));
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(500);
  }
  throw new Error(`sign-in as ${username} failed: ${last}`);
}

export interface LoadOptions {
  graphqlUrl: string;
  token: string;
  /** Clients sending at once, each waiting for its answer before the next request. */
  clients: number;
  /** Pause between one client's requests, so the load stays steady without saturating a small machine. */
  pauseMs: number;
  /** A client gives up on one answer after this long (counted as failed). */
  requestTimeoutMs: number;
}

/** Runs PortalView in a loop from `clients` clients until stopped. */
export class PortalLoad {
  readonly samples: Sample[] = [];
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly options: LoadOptions) {}

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.options.clients }, (_, i) => this.loop(i));
  }

  private async loop(i: number): Promise<void> {
    // Spread the clients out over the first pause, so they do not move in step.
    await sleep((this.options.pauseMs * i) / this.options.clients);
    while (this.running) {
      this.samples.push(await send(this.options.graphqlUrl, PORTAL_VIEW, {}, this.options.token, this.options.requestTimeoutMs));
      await sleep(this.options.pauseMs);
    }
  }

  /** Resolves once a full answer arrives for a request sent at or after `since`; false at the deadline. */
  async fullAnswerSince(since: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.samples.some((s) => s.start >= since && s.outcome === 'full')) return true;
      await sleep(100);
    }
    return false;
  }

  /** Stops sending; resolves when every client has its last answer. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}
