import type { IncomingMessage } from 'node:http';
import { checkOperationSize, cors, limitResponse, securityHeaders } from './front';
import { readEdgeSettings } from './settings';

const request = (headers: Record<string, string>, method = 'POST', encrypted = false) => ({ headers, method, socket: { encrypted } }) as unknown as IncomingMessage;
const ALLOWED = ['https://portal.example.mil'];

describe('cors', () => {
  it('answers a preflight from an allowed origin with 204 and the allowed methods and headers', () => {
    const d = cors(request({ origin: ALLOWED[0], 'access-control-request-method': 'POST' }, 'OPTIONS'), ALLOWED);
    expect(d.preflight).toEqual({
      status: 204,
      body: '',
      headers: {
        vary: 'Origin',
        'access-control-allow-origin': ALLOWED[0],
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': 'content-type, authorization, apollo-require-preflight, x-request-id',
        'access-control-max-age': '600',
      },
    });
  });

  it('gives a refused origin no Access-Control-Allow-Origin, and its preflight a 403', () => {
    expect(cors(request({ origin: 'https://evil.example' }), ALLOWED).headers['access-control-allow-origin']).toBeUndefined();
    expect(cors(request({ origin: 'https://evil.example', 'access-control-request-method': 'POST' }, 'OPTIONS'), ALLOWED).preflight?.status).toBe(403);
    // None allowed by default.
    expect(cors(request({ origin: ALLOWED[0] }), []).headers).toEqual({});
  });
});

describe('securityHeaders', () => {
  it('sets nosniff, no framing and no referrer; HSTS only over TLS', () => {
    const plain = securityHeaders(request({}), false);
    expect(plain).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'content-security-policy': "frame-ancestors 'none'", 'referrer-policy': 'no-referrer' });
    expect(plain['strict-transport-security']).toBeUndefined();
    expect(securityHeaders(request({}, 'GET', true), true)).toMatchObject({
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    });
  });
});

describe('sizes', () => {
  const limits = { maxQueryChars: 100, maxVariablesBytes: 50 };
  it('refuses a long query text and large variables, by POST and GET', () => {
    expect(checkOperationSize({ query: 'x'.repeat(101) }, '', limits)?.status).toBe(400);
    expect(checkOperationSize({ query: '{ a }', variables: { v: 'x'.repeat(60) } }, '', limits)?.body).toEqual({
      errors: [{ message: 'The variables are larger than 50 bytes.', extensions: { code: 'BAD_REQUEST' } }],
    });
    expect(checkOperationSize(undefined, `?query=${'x'.repeat(101)}`, limits)?.status).toBe(400);
    expect(checkOperationSize({ query: '{ a }', variables: { v: 1 } }, '', limits)).toBeUndefined();
  });

  it('replaces an answer over the limit whole, never cutting it', () => {
    expect(limitResponse('{"data":{}}', 100).text).toBe('{"data":{}}');
    expect(JSON.parse(limitResponse(`{"data":"${'x'.repeat(200)}"}`, 100).text)).toEqual({
      errors: [{ message: expect.any(String), extensions: { code: 'RESPONSE_TOO_LARGE' } }],
    });
  });
});

describe('readEdgeSettings', () => {
  it('reads every setting and refuses malformed ones at start', () => {
    const s = readEdgeSettings({ GRAPHQL_MAX_DEPTH: '12', CORS_ORIGINS: 'https://a.example, http://localhost:3000', TRUSTED_DOCUMENTS: '1', HTTP_MAX_BODY_BYTES: '2048' });
    expect(s.document.maxDepth).toBe(12);
    expect(s.corsOrigins).toEqual(['https://a.example', 'http://localhost:3000']);
    expect(s.trustedDocuments).toBe(true);
    expect(s.maxBodyBytes).toBe(2048);
    expect(() => readEdgeSettings({ GRAPHQL_MAX_COST: '-1' })).toThrow(/GRAPHQL_MAX_COST/);
    expect(() => readEdgeSettings({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS/);
    expect(() => readEdgeSettings({ CORS_ORIGINS: 'https://a.example/' })).toThrow(/CORS_ORIGINS/);
    expect(() => readEdgeSettings({ TRUSTED_DOCUMENTS: 'yes' })).toThrow(/TRUSTED_DOCUMENTS/);
  });
});
