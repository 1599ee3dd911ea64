import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { PortalConfig } from './config';

export const REQUEST_ID_HEADER = 'x-request-id';
/** HMAC-SHA256 (base64url) of the request id and the Authorization header, with REQUEST_ID_SECRET. */
export const REQUEST_ID_PROOF_HEADER = 'x-request-id-proof';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const MIN_SECRET_LENGTH = 32;

/**
 * The proof the gateway sends with a request id it assigned. It covers the
 * caller's Authorization header too, so a proof seen once cannot lend its id
 * to a request made with another credential.
 */
export function requestIdProof(secret: string, requestId: string, authorization: string | undefined): string {
  return createHmac('sha256', secret).update(`${requestId}\n${authorization ?? ''}`).digest('base64url');
}

/**
 * The request id of a call the gateway made (a well-formed id with a valid
 * proof), or null: a subgraph then assigns its own, so whoever calls it
 * directly cannot write an id of their choosing into the audit trail.
 */
export function trustedRequestId(req: IncomingMessage, secret: string): string | null {
  const id = req.headers[REQUEST_ID_HEADER];
  const proof = req.headers[REQUEST_ID_PROOF_HEADER];
  if (typeof id !== 'string' || typeof proof !== 'string' || !REQUEST_ID.test(id)) return null;
  const expected = Buffer.from(requestIdProof(secret, id, req.headers.authorization));
  const given = Buffer.from(proof);
  return given.length === expected.length && timingSafeEqual(given, expected) ? id : null;
}

/** A subgraph's request id: the gateway's when it proved it, otherwise a new one. */
export const subgraphRequestId = (secret: string) => (req: IncomingMessage) => trustedRequestId(req, secret) ?? randomUUID();

/**
 * REQUEST_ID_SECRET, shared by the gateway and every subgraph; in development
 * one generated into DATA_DIR/keys on first start (the stack's processes share
 * DATA_DIR). Production refuses to start without it.
 */
export function loadRequestIdSecret(config: PortalConfig): string {
  if (config.requestIdSecret) {
    if (config.requestIdSecret.length < MIN_SECRET_LENGTH) throw new Error(`REQUEST_ID_SECRET must be at least ${MIN_SECRET_LENGTH} characters.`);
    return config.requestIdSecret;
  }
  if (config.production) throw new Error('REQUEST_ID_SECRET is required in production.');
  const file = path.join(config.dataDir, 'keys', 'request-id-secret');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // wx: processes starting at once must not overwrite each other's secret.
    try {
      fs.writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return fs.readFileSync(file, 'utf8').trim();
}
