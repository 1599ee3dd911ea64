import type { IncomingMessage } from 'node:http';
import { PortalError, retryAfterOf, type RouteHandler, type SubgraphRuntime, type Viewer } from '@portal/kit';
import type { IdentityDeps } from './context';
import { IdentityStore } from './db/store';
import { SecurityAudit } from './services/audit';
import { localProxyAccess } from './services/proxyAccess';
import { ServiceTokens } from './services/serviceClients';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * The JWKS for every verifier, the questions other subgraphs ask identity
 * (care access, whether a session is live), and the OAuth token endpoint for
 * other services.
 */
export function identityRoutes(runtime: SubgraphRuntime, deps: IdentityDeps): Record<string, RouteHandler> {
  const store = new IdentityStore(runtime.database.dataSource);
  const serviceTokens = new ServiceTokens(store, deps.keys);
  const proxyAccess = localProxyAccess(store, deps.clock);
  const viewerOf = (req: IncomingMessage): Promise<Viewer | null> => runtime.verifier.fromAuthorizationHeader(req.headers.authorization).catch(() => null);
  /** True for a live session (service tokens have none); otherwise the answer to give. */
  const sessionLive = async (viewer: Viewer): Promise<true | { status: number; body: object }> => {
    if (viewer.role === 'SERVICE') return true;
    try {
      await deps.sessions.check(viewer);
      return true;
    } catch (e) {
      if (e instanceof PortalError && e.extensions.code === 'UNAUTHENTICATED') return { status: 401, body: { error: 'session ended' } };
      return { status: 503, body: { error: 'unavailable' } };
    }
  };
  return {
    'GET /.well-known/jwks.json': async () => ({
      status: 200,
      body: { keys: deps.keys.jwks },
      // Short, so a key added at rotation is picked up soon; verifiers also refetch on an unknown kid.
      headers: { 'cache-control': 'public, max-age=300' },
    }),
    'POST /internal/care-access': async (req, body) => {
      const viewer = await viewerOf(req);
      if (!viewer) return { status: 401, body: { error: 'unauthenticated' } };
      // A token outlives its session (8 hours against 15 idle minutes and sign-out): the session decides.
      const live = await sessionLive(viewer);
      if (live !== true) return live;
      let ids: string[] = [];
      let teams = false;
      let proxy = false;
      try {
        const parsed = JSON.parse(body.toString('utf8')) as { patientIds?: unknown; careTeams?: unknown; proxy?: unknown };
        if (Array.isArray(parsed.patientIds)) ids = parsed.patientIds.filter((x): x is string => typeof x === 'string').slice(0, 1000);
        teams = parsed.careTeams === true;
        proxy = parsed.proxy === true;
      } catch {
        return { status: 400, body: { error: 'bad request' } };
      }
      const allowed = viewer.role === 'PRACTITIONER' ? await store.patientsTreatedBy(viewer.personId, ids) : new Set<string>();
      // The viewer's own teams as they are now: subgraphs ask this instead of trusting the token's snapshot.
      const member = viewer.role === 'PRACTITIONER' || viewer.role === 'PATIENT';
      const careTeamIds = teams ? (member ? await store.careTeamIdsOf(viewer.personId) : []) : undefined;
      // What a patient viewer may do for each of the patients as their proxy today (none for other roles): `{ [id]: { scopes, hideSensitive } }`.
      const proxied = proxy ? Object.fromEntries(await proxyAccess(viewer, ids)) : undefined;
      return { status: 200, body: { allowed: [...allowed], careTeamIds, proxy: proxied }, headers: NO_STORE };
    },
    // Asked with the viewer's own token, so only a holder of a valid token learns (and extends) its session.
    'POST /internal/sessions/check': async (req) => {
      const viewer = await viewerOf(req);
      if (!viewer || viewer.role === 'SERVICE') return { status: 401, body: { active: false } };
      try {
        const expiresAt = await deps.sessions.check(viewer);
        return { status: 200, body: { active: true, expiresAt: expiresAt.toISOString() }, headers: NO_STORE };
      } catch (e) {
        if (e instanceof PortalError && e.extensions.code === 'UNAUTHENTICATED') return { status: 200, body: { active: false }, headers: NO_STORE };
        return { status: 503, body: { error: 'unavailable' } };
      }
    },
    'POST /oauth/token': async (req, body, requestId) => {
      try {
        await runtime.limits.consume('token', runtime.clientAddress(req));
      } catch (e) {
        if (!(e instanceof PortalError)) throw e;
        const limited = e.extensions.code === 'RATE_LIMITED';
        return {
          status: limited ? 429 : 503,
          body: { error: limited ? 'rate_limited' : 'temporarily_unavailable', error_description: e.message },
          headers: { ...NO_STORE, 'retry-after': retryAfterOf(e) },
        };
      }
      const params = tokenRequestParams(req, body);
      if (!params) return { status: 400, body: { error: 'invalid_request', error_description: 'Send a JSON or form-encoded body.' }, headers: NO_STORE };
      if (params.grant_type !== 'client_credentials') {
        return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Only grant_type=client_credentials is supported.' }, headers: NO_STORE };
      }
      if (!params.client_id || !params.client_secret || params.client_secret.length > 256) {
        return { status: 401, body: { error: 'invalid_client', error_description: 'Send client_id and client_secret.' }, headers: NO_STORE };
      }
      const result = await serviceTokens.exchange(params.client_id, params.client_secret, params.scope);
      // Every grant and refusal, by client id (never the secret); the same id as the response's x-request-id.
      await new SecurityAudit(store, { requestId: requestId, viewer: null, clientAddress: runtime.clientAddress(req) }, deps.clock).write({
        event: 'SERVICE_TOKEN',
        method: 'SERVICE',
        outcome: result.ok ? 'OK' : result.body.error,
        accountId: `service:${params.client_id.slice(0, 64)}`,
        detail: result.ok ? result.body.scope : null,
      });
      return { status: result.ok ? 200 : result.status, body: result.body, headers: NO_STORE };
    },
  };
}

type TokenRequest = Partial<Record<'grant_type' | 'client_id' | 'client_secret' | 'scope', string>>;

/** The token request's parameters from a form or JSON body, and the client's credentials from HTTP Basic if sent that way. */
function tokenRequestParams(req: IncomingMessage, body: Buffer): TokenRequest | null {
  const type = String(req.headers['content-type'] ?? '');
  let params: TokenRequest = {};
  try {
    if (type.includes('application/json')) {
      const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      for (const k of ['grant_type', 'client_id', 'client_secret', 'scope'] as const) if (typeof parsed[k] === 'string') params[k] = parsed[k] as string;
    } else if (type.includes('application/x-www-form-urlencoded')) {
      params = Object.fromEntries(new URLSearchParams(body.toString('utf8'))) as TokenRequest;
    } else {
      return null;
    }
  } catch {
    return null;
  }
  const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(String(req.headers.authorization ?? ''));
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      try {
        params.client_id = decodeURIComponent(decoded.slice(0, colon));
        params.client_secret = decodeURIComponent(decoded.slice(colon + 1));
      } catch {
        return null;
      }
    }
  }
  return params;
}
