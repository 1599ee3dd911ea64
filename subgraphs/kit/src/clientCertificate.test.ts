import type { IncomingMessage } from 'node:http';
import {
  clientCertificateProof,
  connectionCertificate,
  FORWARDED_CLIENT_CERT_HEADER,
  FORWARDED_CLIENT_CERT_PROOF_HEADER,
  forwardedClientCertificate,
  parseClientCertHeader,
  parseClientCertHeaderName,
} from './clientCertificate';
import { REQUEST_ID_HEADER, REQUEST_ID_PROOF_HEADER, requestIdProof } from './requestId';

const SECRET = 'a-test-secret-of-at-least-32-characters!';
/** Not a real certificate: the parsing only moves bytes; identity reads them. */
const DER = Buffer.from([0x30, 0x82, 0x01, 0x0a, 0xfb, 0xff, 0xfe, 0x00, 0x10, 0x20]);
const B64 = DER.toString('base64');
const PEM = `-----BEGIN CERTIFICATE-----\n${B64}\n-----END CERTIFICATE-----\n`;

describe('parseClientCertHeader', () => {
  it('reads an RFC 9440 byte sequence (:base64 DER:)', () => {
    expect(parseClientCertHeader(`:${B64}:`)).toEqual(DER);
    expect(parseClientCertHeader(`  :${B64}:  `)).toEqual(DER);
  });

  it('reads nginx’s URL-escaped PEM, bare or between colons', () => {
    expect(parseClientCertHeader(encodeURIComponent(PEM))).toEqual(DER);
    expect(parseClientCertHeader(`:${encodeURIComponent(PEM)}:`)).toEqual(DER);
    // nginx leaves +, / and = as they are: they are not escapes.
    expect(parseClientCertHeader(PEM.replace(/ /g, '%20').replace(/\n/g, '%0A'))).toEqual(DER);
  });

  it('is undefined for no certificate or something that is not one', () => {
    for (const value of [undefined, '', '::', ':', ':not base64!:', '%E0%A4%A', encodeURIComponent('-----BEGIN KEY-----\nAAAA\n-----END KEY-----'), ['a', 'b'], `:${'A'.repeat(20_000)}:`]) {
      expect(parseClientCertHeader(value as string | undefined)).toBeUndefined();
    }
  });
});

describe('CLIENT_CERT_HEADER', () => {
  it('is off unless set, and lower-cases a header name', () => {
    expect(parseClientCertHeaderName(undefined)).toBeUndefined();
    expect(parseClientCertHeaderName('  ')).toBeUndefined();
    expect(parseClientCertHeaderName('none')).toBeUndefined();
    expect(parseClientCertHeaderName('Client-Cert')).toBe('client-cert');
    expect(parseClientCertHeaderName('X-SSL-Client-Cert')).toBe('x-ssl-client-cert');
  });

  it('refuses what is not a header name, or a header the portal uses itself', () => {
    for (const bad of ['Client Cert', 'client_cert:', 'Authorization', 'X-Forwarded-For', FORWARDED_CLIENT_CERT_HEADER, 'x-request-id-proof']) {
      expect(() => parseClientCertHeaderName(bad)).toThrow(/CLIENT_CERT_HEADER/);
    }
  });
});

describe('forwardedClientCertificate', () => {
  const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
  const proved = (requestId: string, certificate: string, secret = SECRET) => ({
    [REQUEST_ID_HEADER]: requestId,
    [REQUEST_ID_PROOF_HEADER]: requestIdProof(SECRET, requestId, undefined),
    [FORWARDED_CLIENT_CERT_HEADER]: certificate,
    [FORWARDED_CLIENT_CERT_PROOF_HEADER]: clientCertificateProof(secret, requestId, certificate),
  });

  it('believes the certificate with the gateway’s proof', () => {
    expect(forwardedClientCertificate(request(proved('req-1', B64)), SECRET)).toBe(B64);
  });

  it('ignores it without a proof, with another secret’s, another request id’s, or without a proved request id', () => {
    expect(forwardedClientCertificate(request({ [FORWARDED_CLIENT_CERT_HEADER]: B64 }), SECRET)).toBeUndefined();
    expect(forwardedClientCertificate(request(proved('req-1', B64, 'another-secret-of-at-least-32-characters')), SECRET)).toBeUndefined();
    const moved = { ...proved('req-1', B64), [FORWARDED_CLIENT_CERT_PROOF_HEADER]: clientCertificateProof(SECRET, 'req-2', B64) };
    expect(forwardedClientCertificate(request(moved), SECRET)).toBeUndefined();
    const unproved = { ...proved('req-1', B64), [REQUEST_ID_PROOF_HEADER]: 'nope' };
    expect(forwardedClientCertificate(request(unproved), SECRET)).toBeUndefined();
  });
});

describe('connectionCertificate', () => {
  it('is the TLS peer’s certificate, none on plain HTTP or without one', () => {
    expect(connectionCertificate({ socket: {} } as IncomingMessage)).toBeUndefined();
    expect(connectionCertificate({ socket: { getPeerCertificate: () => ({}) } } as unknown as IncomingMessage)).toBeUndefined();
    expect(connectionCertificate({ socket: { getPeerCertificate: () => ({ raw: DER }) } } as unknown as IncomingMessage)).toEqual(DER);
  });
});
