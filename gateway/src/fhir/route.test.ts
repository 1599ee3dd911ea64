import type { IncomingMessage } from 'node:http';
import { captureLogs, StreamedBody, TokenVerifier } from '@portal/kit';
import { mintToken, testSigningKey } from '@portal/kit/testing';
import type { GatewayExecutor } from '../server';
import { sampleRecord } from './fixture';
import { EVERYTHING_QUERY, MAX_PAGES, PAGE_SIZE } from './record';
import { fhirBaseOf, fhirRoutes } from './route';

type Key = Awaited<ReturnType<typeof testSigningKey>>;
let key: Key;
let verifier: TokenVerifier;
beforeAll(async () => {
  key = await testSigningKey();
  verifier = new TokenVerifier({ jwks: { keys: [key.publicJwk] } });
});

const page = <T>(nodes: T[], hasNextPage = false, endCursor: string | null = null) => ({ pageInfo: { hasNextPage, endCursor }, edges: nodes.map((node) => ({ node })) });

/** What the graph would answer for the sample record. */
function graphAnswer() {
  const r = sampleRecord();
  return {
    me: {
      patient: {
        ...r.patient,
        appointments: page(r.appointments),
        inbox: page(r.threads),
        archive: page([]),
        labResults: page(r.labResults),
        visitNotes: page(r.visitNotes),
        vitals: page(r.vitals),
        prescriptions: r.prescriptions,
        conditions: r.conditions,
        allergies: r.allergies,
        immunizations: r.immunizations,
      },
    },
  };
}

const request = (headers: Record<string, string>, url = '/fhir/Patient/$everything') => ({ headers, url }) as unknown as IncomingMessage;

/** The route's answer, a streamed Bundle read back whole (the pieces joined must parse as one JSON document). */
async function call(execute: GatewayExecutor, headers: Record<string, string>, url?: string) {
  const route = fhirRoutes({ execute, verifier, now: () => new Date('2025-06-01T00:00:00Z') })['GET /fhir/Patient/$everything'];
  const res = await route(request({ host: 'portal.example', ...headers }, url), Buffer.alloc(0), 'req-fhir-test');
  if (!(res.body instanceof StreamedBody)) return { ...res, streamed: false };
  let text = '';
  for await (const piece of res.body.pieces) text += piece;
  return { ...res, body: JSON.parse(text) as unknown, streamed: true };
}

const bearer = async (role: 'PATIENT' | 'PRACTITIONER' = 'PATIENT') => ({ authorization: `Bearer ${await mintToken(key, { personId: 'pt-1000000002', role })}` });

describe('GET /fhir/Patient/$everything', () => {
  it('answers a patient with their Bundle as application/fhir+json, read with their own token', async () => {
    const calls: { query: string; authorization?: string }[] = [];
    const headers = await bearer();
    const res = await call(async (query, _vars, authorization) => {
      calls.push({ query, authorization });
      return { data: graphAnswer() };
    }, headers);
    expect(res.status).toBe(200);
    // Written piece by piece, never held whole.
    expect(res.streamed).toBe(true);
    expect(res.headers?.['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect(res.headers?.['cache-control']).toBe('no-store');
    expect(calls).toEqual([{ query: EVERYTHING_QUERY, authorization: headers.authorization }]);
    const bundle = res.body as any;
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.entry[0].fullUrl).toBe('http://portal.example/fhir/Patient/pt-1000000002');
  });

  it('reads the further pages of a long list, and only of that list', async () => {
    const r = sampleRecord();
    const queries: string[] = [];
    const res = await call(async (query, vars) => {
      queries.push(query);
      if (query === EVERYTHING_QUERY) {
        const answer = graphAnswer();
        answer.me.patient.labResults = page(r.labResults.slice(0, 1), true, 'c1');
        return { data: answer };
      }
      expect(query).toMatch(/^query PatientLabResultsPage\(/);
      expect(vars).toEqual({ first: PAGE_SIZE, after: expect.any(String) });
      return { data: { me: { patient: { labResults: vars.after === 'c1' ? page(r.labResults.slice(1, 2), true, 'c2') : page(r.labResults.slice(2)) } } } };
    }, await bearer());
    expect(res.status).toBe(200);
    expect(queries).toHaveLength(3);
    const observations = (res.body as any).entry.filter((e: any) => e.resource.resourceType === 'Observation' && e.resource.category[0].coding[0].code === 'laboratory');
    expect(observations.map((e: any) => e.resource.id)).toEqual(r.labResults.map((l) => l.id));
  });

  it('refuses a record longer than the page cap instead of cutting it short', async () => {
    let n = 0;
    const res = await call(async (query) => {
      n++;
      const answer = graphAnswer();
      if (query === EVERYTHING_QUERY) {
        answer.me.patient.vitals = page([], true, 'c');
        return { data: answer };
      }
      return { data: { me: { patient: { vitals: page([], true, 'c') } } } };
    }, await bearer());
    expect(res.status).toBe(500);
    expect((res.body as any).issue[0].code).toBe('too-costly');
    expect(n).toBe(MAX_PAGES);
  });

  it('answers 401 with an OperationOutcome without a token, with a bad one, or when the session has ended', async () => {
    const execute: GatewayExecutor = async () => ({ data: { me: null }, errors: [{ message: '401: Unauthorized', extensions: { code: 'UNAUTHENTICATED' } }] });
    const forged = await mintToken(await testSigningKey(), { personId: 'pt-1000000002' });
    for (const headers of [{}, { authorization: 'Basic abc' }, { authorization: `Bearer ${forged}` }, await bearer()]) {
      const res = await call(execute, headers);
      expect(res.status).toBe(401);
      expect(res.headers?.['www-authenticate']).toMatch(/^Bearer /);
      expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] });
    }
  });

  it('answers 403 to anyone but a patient, without reading anything', async () => {
    let called = false;
    const res = await call(async () => {
      called = true;
      return { data: graphAnswer() };
    }, await bearer('PRACTITIONER'));
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'forbidden' }] });
    expect(called).toBe(false);
  });

  it('fails the whole download on any error, saying nothing internal', async () => {
    const log = captureLogs();
    const partial = graphAnswer();
    const res = await call(async () => ({ data: partial, errors: [{ message: 'connect ECONNREFUSED http://10.0.0.5:4004/graphql', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }), await bearer());
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.body)).not.toMatch(/10\.0\.0\.5|ECONNREFUSED|graphql|stack/i);
    const thrown = await call(async () => {
      throw new Error('socket hang up at http://127.0.0.1:4005');
    }, await bearer());
    expect(thrown.status).toBe(500);
    expect(JSON.stringify(thrown.body)).not.toMatch(/127\.0\.0\.1|socket/);
    const busy = await call(async () => ({ errors: [{ message: 'x', extensions: { code: 'SERVICE_UNAVAILABLE' } }] }), await bearer());
    expect(busy.status).toBe(503);
    expect(busy.headers?.['retry-after']).toBe('30');
    log.restore();
    expect(log.text()).toContain('[fhir] download failed');
    expect(log.text()).not.toMatch(/inhaler|Roe|ECONNREFUSED/);
  });

  it('also answers the percent-encoded path', () => {
    const routes = fhirRoutes({ execute: async () => ({}), verifier });
    expect(Object.keys(routes).sort()).toEqual(['GET /fhir/Patient/$everything', 'GET /fhir/Patient/%24everything', 'GET /fhir/metadata']);
  });
});

describe('GET /fhir/Patient/$everything?patient=<id> (a proxied record)', () => {
  const CHILD = 'pt-1000000003';
  /** What the graph answers for `patient(id:)`: the same fields as `me.patient`. */
  const proxiedAnswer = () => ({ patient: { ...graphAnswer().me.patient, id: CHILD } });
  const resourceTypes = (bundle: any) => new Set<string>(bundle.entry.map((e: any) => e.resource.resourceType));

  it('asks identity’s patient(id:) for the same fields, with the viewer’s token, and answers the Bundle of that patient', async () => {
    const calls: { query: string; vars: Record<string, unknown> }[] = [];
    const headers = await bearer();
    const res = await call(async (query, vars) => {
      calls.push({ query, vars });
      return { data: proxiedAnswer() };
    }, headers, `/fhir/Patient/$everything?patient=${CHILD}`);
    expect(res.status).toBe(200);
    expect(calls).toHaveLength(1);
    expect(calls[0].query).toMatch(/^query ProxiedPatientEverything\(\$first: Int!, \$patient: ID!\) \{\s+patient\(id: \$patient\) \{/);
    expect(calls[0].query).not.toMatch(/\bme\b/);
    expect(calls[0].vars).toEqual({ first: PAGE_SIZE, patient: CHILD });
    expect((res.body as any).entry[0].fullUrl).toBe(`http://portal.example/fhir/Patient/${CHILD}`);
    expect([...resourceTypes(res.body)]).toEqual(expect.arrayContaining(['Appointment', 'MedicationRequest', 'DocumentReference', 'Observation']));
  });

  it('reads further pages of a proxied record through patient(id:) too', async () => {
    const r = sampleRecord();
    const queries: string[] = [];
    const res = await call(async (query, vars) => {
      queries.push(query);
      if (queries.length === 1) {
        const answer = proxiedAnswer();
        answer.patient.labResults = page(r.labResults.slice(0, 1), true, 'c1');
        return { data: answer };
      }
      expect(vars).toEqual({ first: PAGE_SIZE, after: 'c1', patient: CHILD });
      return { data: { patient: { labResults: page(r.labResults.slice(1)) } } };
    }, await bearer(), `/fhir/Patient/$everything?patient=${CHILD}`);
    expect(res.status).toBe(200);
    expect(queries[1]).toMatch(/^query ProxiedPatientLabResultsPage\(/);
  });

  it('leaves out the parts the grant’s scopes do not cover (FORBIDDEN each on its own) and downloads the rest', async () => {
    const res = await call(async () => {
      const answer: any = proxiedAnswer();
      answer.patient.labResults = null;
      answer.patient.visitNotes = null;
      answer.patient.prescriptions = null;
      return {
        data: answer,
        errors: ['labResults', 'visitNotes', 'prescriptions'].map((part) => ({ message: 'Forbidden', path: ['patient', part], extensions: { code: 'FORBIDDEN' } })),
      };
    }, await bearer(), `/fhir/Patient/$everything?patient=${CHILD}`);
    expect(res.status).toBe(200);
    const types = resourceTypes(res.body);
    expect(types.has('Patient')).toBe(true);
    expect(types.has('Appointment')).toBe(true);
    expect(types.has('MedicationRequest')).toBe(false);
    expect(types.has('DocumentReference')).toBe(false);
    const labs = (res.body as any).entry.filter((e: any) => e.resource.resourceType === 'Observation' && e.resource.category?.[0]?.coding?.[0]?.code === 'laboratory');
    expect(labs).toEqual([]);
  });

  it('answers 404 (an OperationOutcome) for a patient the viewer may not see, whether or not the id exists', async () => {
    const res = await call(
      async () => ({ data: { patient: null }, errors: [{ message: 'Patient was not found.', path: ['patient'], extensions: { code: 'NOT_FOUND' } }] }),
      await bearer(),
      '/fhir/Patient/$everything?patient=pt-1000000001',
    );
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] });
  });

  it('still fails the whole download on any other error', async () => {
    const res = await call(
      async () => ({ data: proxiedAnswer(), errors: [{ message: 'x', path: ['patient', 'labResults'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }),
      await bearer(),
      `/fhir/Patient/$everything?patient=${CHILD}`,
    );
    expect(res.status).toBe(500);
  });

  it('reads the viewer’s own record through me when the patient is the viewer, and refuses a malformed parameter (400)', async () => {
    const queries: string[] = [];
    const own = await call(async (query) => {
      queries.push(query);
      return { data: graphAnswer() };
    }, await bearer(), '/fhir/Patient/$everything?patient=pt-1000000002');
    expect(own.status).toBe(200);
    expect(queries).toEqual([EVERYTHING_QUERY]);
    for (const url of ['/fhir/Patient/$everything?patient=', '/fhir/Patient/$everything?patient=a&patient=b', '/fhir/Patient/$everything?patient=%3Cscript%3E']) {
      const res = await call(async () => ({ data: graphAnswer() }), await bearer(), url);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'invalid' }] });
    }
  });
});

describe('fhirBaseOf', () => {
  it('uses the host the client addressed, and only when it looks like a host', () => {
    expect(fhirBaseOf(request({ host: '127.0.0.1:4000' }))).toBe('http://127.0.0.1:4000/fhir');
    expect(fhirBaseOf(request({ host: 'gw', 'x-forwarded-host': 'portal.example', 'x-forwarded-proto': 'https' }))).toBe('https://portal.example/fhir');
    expect(fhirBaseOf(request({ host: 'evil.example/"><script>' }))).toBe('http://localhost/fhir');
    expect(fhirBaseOf(request({}))).toBe('http://localhost/fhir');
  });
});

describe('GET /fhir/metadata', () => {
  it('answers a FHIR R4 CapabilityStatement without a token, asking the graph nothing', async () => {
    const execute = jest.fn(async () => ({}));
    const route = fhirRoutes({ execute, verifier })['GET /fhir/metadata'];
    const res = await route(request({ host: 'portal.example', 'x-forwarded-proto': 'https' }), Buffer.alloc(0), 'req-meta');
    expect(res.status).toBe(200);
    expect(res.headers?.['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect(execute).not.toHaveBeenCalled();
    const cs = res.body as any;
    expect(cs).toMatchObject({ resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1', format: ['application/fhir+json', 'json'] });
    expect(cs.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(cs.implementation.url).toBe('https://portal.example/fhir');
    const [rest] = cs.rest;
    expect(rest.mode).toBe('server');
    expect(rest.security.service[0].coding[0]).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth' });
    expect(rest.security.description).toMatch(/Authorization: Bearer/);
    const patient = rest.resource.find((r: any) => r.type === 'Patient');
    expect(patient.operation).toEqual([expect.objectContaining({ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' })]);
    // Every type a download holds is listed, MedicationDispense among them; none offers interactions of its own.
    expect(rest.resource.map((r: any) => r.type)).toEqual(expect.arrayContaining(['MedicationRequest', 'MedicationDispense', 'Observation']));
    expect(rest.resource.every((r: any) => r.interaction === undefined)).toBe(true);
  });
});
