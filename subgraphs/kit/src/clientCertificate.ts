import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { trustedRequestId } from './requestId';

/**
 * The client certificate of a card sign-in in the TLS handshake, as the
 * gateway forwards it to identity: base64 of the certificate's DER. The
 * gateway sets it itself (from its own TLS connection, or from a trusted
 * proxy's `Client-Cert` header); it never passes on a client's.
 */
export const FORWARDED_CLIENT_CERT_HEADER = 'x-portal-client-cert';
/** HMAC-SHA256 (base64url) with REQUEST_ID_SECRET over the request id and the certificate: only the gateway can make it. */
export const FORWARDED_CLIENT_CERT_PROOF_HEADER = 'x-portal-client-cert-proof';

/** A certificate is a few kilobytes; a header far larger is not one. */
const MAX_CERT_HEADER_CHARS = 16_384;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const PEM = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/;

export function clientCertificateProof(secret: string, requestId: string, certificate: string): string {
  return createHmac('sha256', secret).update(`client-certificate\n${requestId}\n${certificate}`).digest('base64url');
}

/**
 * The certificate the gateway forwarded (base64 DER), or undefined when there
 * is none or its proof does not hold: a caller of the subgraph who is not the
 * gateway cannot name a certificate.
 */
export function forwardedClientCertificate(req: IncomingMessage, secret: string): string | undefined {
  const certificate = req.headers[FORWARDED_CLIENT_CERT_HEADER];
  const proof = req.headers[FORWARDED_CLIENT_CERT_PROOF_HEADER];
  if (typeof certificate !== 'string' || typeof proof !== 'string' || !BASE64.test(certificate)) return undefined;
  const requestId = trustedRequestId(req, secret);
  if (!requestId) return undefined;
  const expected = Buffer.from(clientCertificateProof(secret, requestId, certificate));
  const given = Buffer.from(proof);
  return given.length === expected.length && timingSafeEqual(given, expected) ? certificate : undefined;
}

/** The certificate the client presented in this connection's TLS handshake (DER), if the connection is TLS and it presented one. */
export function connectionCertificate(req: Pick<IncomingMessage, 'socket'>): Buffer | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const peer = socket.getPeerCertificate(false);
  return peer && peer.raw && peer.raw.length > 0 ? peer.raw : undefined;
}

/**
 * A certificate header of a reverse proxy, in either form:
 * - RFC 9440 `Client-Cert`: a structured-field byte sequence, `:` base64 DER `:`;
 * - nginx's `$ssl_client_escaped_cert`: the PEM, URL-escaped, bare or between
 *   colons (`":$ssl_client_escaped_cert:"`).
 * Undefined when empty (`::`, no certificate) or not one of them.
 */
export function parseClientCertHeader(value: string | string[] | undefined): Buffer | undefined {
  if (typeof value !== 'string') return undefined;
  let text = value.trim();
  if (!text || text.length > MAX_CERT_HEADER_CHARS) return undefined;
  if (text.length >= 2 && text.startsWith(':') && text.endsWith(':')) text = text.slice(1, -1).trim();
  if (!text) return undefined;
  if (text.includes('%') || text.startsWith('-----BEGIN')) {
    let pem: string;
    try {
      pem = decodeURIComponent(text);
    } catch {
      return undefined;
    }
    const block = PEM.exec(pem);
    if (!block) return undefined;
    const body = block[1].replace(/\s+/g, '');
    return BASE64.test(body) ? Buffer.from(body, 'base64') : undefined;
  }
  return BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
}

/** `CLIENT_CERT_HEADER`: the header a trusted proxy puts the client certificate in; unset or `none` believes none. */
export function parseClientCertHeaderName(value: string | undefined): string | undefined {
  const name = value?.trim().toLowerCase();
  if (!name || name === 'none') return undefined;
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(name)) throw new Error(`CLIENT_CERT_HEADER: "${value!.slice(0, 40)}" is not a header name (e.g. Client-Cert).`);
  const reserved = ['authorization', 'host', 'cookie', 'content-type', 'content-length', 'x-forwarded-for', 'x-request-id', FORWARDED_CLIENT_CERT_HEADER, FORWARDED_CLIENT_CERT_PROOF_HEADER];
  if (reserved.includes(name) || name.startsWith('x-request-id')) throw new Error(`CLIENT_CERT_HEADER: "${name}" is a header the portal uses for something else.`);
  return name;
}
