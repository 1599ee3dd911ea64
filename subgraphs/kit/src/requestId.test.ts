import type { IncomingMessage } from 'node:http';
import { requestIdProof, trustedRequestId } from './requestId';

const SECRET = 'a-secret-of-at-least-thirty-two-characters';
const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const signed = (id: string, authorization?: string, secret = SECRET) => ({
  'x-request-id': id,
  'x-request-id-proof': requestIdProof(secret, id, authorization),
  ...(authorization ? { authorization } : {}),
});

describe('trustedRequestId', () => {
  it('keeps an id the gateway proved, with or without a token', () => {
    expect(trustedRequestId(req(signed('0b9d2c1e-1111-4222-8333-944445555666', 'Bearer a.b.c')), SECRET)).toBe('0b9d2c1e-1111-4222-8333-944445555666');
    expect(trustedRequestId(req(signed('req-1')), SECRET)).toBe('req-1');
  });

  it('refuses an id without a proof, with a proof of another id, secret or token, or malformed', () => {
    expect(trustedRequestId(req({ 'x-request-id': 'req-1' }), SECRET)).toBeNull();
    expect(trustedRequestId(req({ ...signed('req-1'), 'x-request-id': 'req-2' }), SECRET)).toBeNull();
    expect(trustedRequestId(req(signed('req-1', undefined, 'another-secret-of-thirty-two-characters')), SECRET)).toBeNull();
    expect(trustedRequestId(req({ ...signed('req-1', 'Bearer a.b.c'), authorization: 'Bearer x.y.z' }), SECRET)).toBeNull();
    expect(trustedRequestId(req(signed('req 1; DROP')), SECRET)).toBeNull();
    expect(trustedRequestId(req({ 'x-request-id': 'req-1', 'x-request-id-proof': 'short' }), SECRET)).toBeNull();
  });
});
