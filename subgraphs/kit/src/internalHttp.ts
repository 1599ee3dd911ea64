/**
 * Questions one service asks another on every few requests (is this session
 * live, may this practitioner see these patients): undici's `request` on one
 * keep-alive Agent per process. Node's `fetch` builds WHATWG Request and
 * Response objects and streams the body for each call, which cost a subgraph
 * about a twentieth of its CPU per PortalView.
 */
import { Agent, request } from 'undici';

const agent = new Agent({ keepAliveTimeout: 4_000, keepAliveMaxTimeout: 4_000, connections: 32 });

export interface InternalAnswer {
  status: number;
  /** The body as JSON; a body that is not JSON rejects. */
  json(): Promise<unknown>;
}

/**
 * POSTs `body` (or nothing) to `url`; the whole answer, body included, must
 * come within `timeoutMs`. Resolves null when no answer came at all (refused,
 * reset, timed out); the caller decides what that means.
 */
export async function postInternal(url: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<InternalAnswer | null> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await request(url, { method: 'POST', headers, body, signal, dispatcher: agent });
    // Read now, under the same signal: a server that sends headers and then hangs is no answer.
    const text = await res.body.text();
    return {
      status: res.statusCode,
      json: async () => JSON.parse(text) as unknown,
    };
  } catch {
    return null;
  }
}
