/**
 * `GET /fhir/Patient/$everything`: the signed-in patient downloads their whole
 * record as a FHIR R4 Bundle; with `?patient=<id>`, the record of a patient
 * they are a proxy for (a child, someone who named them caregiver), within
 * the grant's scopes. The gateway reads it through its own graph with the
 * caller's token, so each subgraph authorizes and audits every read as it
 * does for any client; this route adds only the HTTP and FHIR framing.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { OperationOutcome } from 'fhir/r4';
import { GraphQLError } from 'graphql';
import { logger, PortalError, retryAfterOf, StreamedBody, type RateLimits, type RouteHandler, type TokenVerifier, type Viewer } from '@portal/kit';
import type { GatewayExecutor } from '../server';
import { patientBundleJson } from './bundle';
import { capabilityStatement } from './capability';
import { operationOutcome } from './outcome';
import { readPatientRecord, RecordUnavailable } from './record';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export interface FhirRouteDeps {
  execute: GatewayExecutor;
  verifier: TokenVerifier;
  /** Downloads are counted per client address and over all clients (`recordDownload`); none when unset. */
  limits?: RateLimits;
  clientAddress?(req: IncomingMessage): string;
  now?: () => Date;
}

type Reply = Awaited<ReturnType<RouteHandler>>;

const HEADERS = { 'content-type': FHIR_JSON, 'cache-control': 'no-store' };

const refuse = (status: number, outcome: OperationOutcome, extra: Record<string, string> = {}): Reply => ({
  status,
  body: outcome,
  headers: { ...HEADERS, ...extra },
});

const unauthenticated = (message: string) =>
  refuse(401, operationOutcome('login', message), { 'www-authenticate': 'Bearer realm="patient-portal", error="invalid_token"' });
const notAPatient = () => refuse(403, operationOutcome('forbidden', 'Only a signed-in patient can download their own record.'));
/** Anyone but the viewer and the patients they are a proxy for: the same answer whether or not the id exists. */
const notFound = () => refuse(404, operationOutcome('not-found', 'No record of this patient is available to you.'));
const badPatient = () => refuse(400, operationOutcome('invalid', 'The patient parameter must be one patient id, e.g. ?patient=pt-1000000003.'));
const unavailable = () => refuse(503, operationOutcome('transient', 'Your record could not be gathered right now. Try again in a few minutes.'), { 'retry-after': '30' });

/** Patient ids as the graph issues them: short, no spaces or separators. */
const PATIENT_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The `patient` search parameter: undefined when absent, null when malformed (given twice, empty, not an id). */
export function patientParamOf(req: IncomingMessage): string | undefined | null {
  const values = new URL(req.url ?? '/', 'http://localhost').searchParams.getAll('patient');
  if (values.length === 0) return undefined;
  return values.length === 1 && PATIENT_ID.test(values[0]) ? values[0] : null;
}

const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The FHIR base as the client addressed it, for the bundle's fullUrls. Only
 * shapes of a host are taken from the request; anything else falls back.
 */
export function fhirBaseOf(req: IncomingMessage): string {
  const forwardedHost = String(req.headers['x-forwarded-host'] ?? '').split(',')[0].trim();
  const host = [forwardedHost, req.headers.host ?? ''].find((h) => HOST.test(h)) ?? 'localhost';
  const proto = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0].trim() === 'https' ? 'https' : 'http';
  return `${proto}://${host}/fhir`;
}

export function fhirRoutes(deps: FhirRouteDeps): Record<string, RouteHandler> {
  const now = deps.now ?? (() => new Date());

  const everything: RouteHandler = async (req, _body, requestId) => {
    if (deps.limits && deps.clientAddress) {
      try {
        await deps.limits.consume('recordDownload', deps.clientAddress(req));
      } catch (e) {
        if (!(e instanceof PortalError)) throw e;
        const limited = e.extensions.code === 'RATE_LIMITED';
        return refuse(limited ? 429 : 503, operationOutcome(limited ? 'throttled' : 'transient', e.message), { 'retry-after': retryAfterOf(e) });
      }
    }
    const authorization = req.headers.authorization;
    if (!authorization) return unauthenticated('Sign in, then send your access token as "Authorization: Bearer <token>".');
    let viewer: Viewer | null;
    try {
      viewer = await deps.verifier.fromAuthorizationHeader(authorization);
    } catch (e) {
      if (e instanceof GraphQLError && e.extensions.code === 'SERVICE_UNAVAILABLE') return unavailable();
      return unauthenticated('Your session has ended or the access token is not valid. Sign in again.');
    }
    if (!viewer) return unauthenticated('Sign in to download your record.');
    if (viewer.role !== 'PATIENT') return notAPatient();
    const patient = patientParamOf(req);
    if (patient === null) return badPatient();

    try {
      // Every read of the download is audited under the request id the client gets back.
      const of = patient === undefined || patient === viewer.personId ? {} : { patientId: patient };
      const record = await readPatientRecord((query, variables, auth) => deps.execute(query, variables, auth, requestId), authorization, of);
      // Written an entry at a time: the record is held once, its FHIR text never whole.
      const bundle = patientBundleJson(record, { baseUrl: fhirBaseOf(req), id: randomUUID(), now: now() });
      return { status: 200, body: new StreamedBody(bundle), headers: HEADERS };
    } catch (e) {
      if (e instanceof RecordUnavailable) {
        if (e.reason === 'unauthenticated') return unauthenticated('Your session has ended. Sign in again.');
        if (e.reason === 'not-a-patient') return notAPatient();
        if (e.reason === 'not-found') return notFound();
        if (e.reason === 'too-large') {
          return refuse(500, operationOutcome('too-costly', 'Your record is larger than this download can assemble. Call the help desk for a copy.'));
        }
        if (e.code === 'SERVICE_UNAVAILABLE') return unavailable();
      }
      // The class and the graph's error code only: never the record, never a raw message.
      logger.error(`[fhir] download failed: ${e instanceof RecordUnavailable ? `${e.reason} ${e.code ?? ''}` : (e as Error)?.name ?? 'error'}`);
      return refuse(500, operationOutcome('exception', 'Your record could not be assembled. Try again later; if it keeps happening, call the help desk.'));
    }
  };

  // What the server supports; no health data, so no token (clients read it before signing in).
  const metadata: RouteHandler = async (req) => ({
    status: 200,
    body: capabilityStatement(fhirBaseOf(req)),
    headers: { 'content-type': FHIR_JSON, 'cache-control': 'no-cache' },
  });

  // Clients write the operation's `$` as is or percent-encoded.
  return { 'GET /fhir/Patient/$everything': everything, 'GET /fhir/Patient/%24everything': everything, 'GET /fhir/metadata': metadata };
}
