import { GraphQLError } from 'graphql';
import { type RateLimits } from '@portal/kit';
import { ErrorCode } from '../errors';

/** Answers that mean the caller did not prove who they are: each counts against the address's `signInFailures`. */
const FAILED_PROOF = new Set<unknown>([
  ErrorCode.INVALID_CREDENTIALS,
  ErrorCode.ACCOUNT_LOCKED,
  ErrorCode.IDENTITY_NOT_VERIFIED,
  ErrorCode.CERTIFICATE_INVALID,
  ErrorCode.CERTIFICATE_EXPIRED,
  ErrorCode.CERTIFICATE_REVOKED,
  ErrorCode.SIGNATURE_INVALID,
  ErrorCode.CHALLENGE_INVALID,
  ErrorCode.CARD_NOT_REGISTERED,
]);

export interface Caller {
  limits: RateLimits;
  clientAddress: string;
}

/**
 * Runs an unauthenticated, expensive step (a sign-in, an account creation, a
 * PIV registration) under the caller's rate limits: refused with RATE_LIMITED
 * before any hashing when the address has failed too often lately or spent
 * its allowance of `kind`, and counted as a failure when it fails to prove
 * who the caller is. The per-username lockout still applies on top; this
 * limit is what slows one client trying one password over many usernames.
 */
export async function underLimits<T>(caller: Caller, kind: 'signIn' | 'account', work: () => Promise<T>): Promise<T> {
  await caller.limits.check('signInFailures', caller.clientAddress);
  await caller.limits.consume(kind, caller.clientAddress);
  try {
    return await work();
  } catch (e) {
    if (e instanceof GraphQLError && FAILED_PROOF.has(e.extensions.code)) await caller.limits.count('signInFailures', caller.clientAddress);
    throw e;
  }
}
