import { DeliveryError } from '@portal/kit';

/**
 * Pharmacy's SERVICE token from identity's client-credentials grant, reused
 * until shortly before it expires (tokens last 5 minutes) and asked for once
 * however many deliveries need it at the same moment.
 */
export class ServiceTokenSource {
  private cached: { token: string; renewAt: number } | null = null;
  private inFlight: Promise<string> | null = null;

  constructor(
    private readonly identityUrl: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
    private readonly scope: string,
    private readonly timeoutMs: number,
  ) {}

  async get(signal?: AbortSignal): Promise<string> {
    if (this.cached && Date.now() < this.cached.renewAt) return this.cached.token;
    this.inFlight ??= this.fetchToken(signal).finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** Messaging refused the token (e.g. identity's key rotated): ask for a new one next time. */
  invalidate(): void {
    this.cached = null;
  }

  private async fetchToken(signal?: AbortSignal): Promise<string> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const res = await fetch(`${this.identityUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: this.clientId, client_secret: this.clientSecret, scope: this.scope }),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (!res.ok) throw new DeliveryError(`Token HTTP ${res.status}`);
    const body = (await res.json().catch(() => null)) as { access_token?: unknown; expires_in?: unknown } | null;
    if (!body || typeof body.access_token !== 'string') throw new DeliveryError('Token response unreadable');
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 60) * 1000;
    // Renew at 80% of the lifetime, and at least 30 s before expiry, so no call ever carries an expired token.
    this.cached = { token: body.access_token, renewAt: Date.now() + Math.min(lifetimeMs * 0.8, lifetimeMs - 30_000) };
    return body.access_token;
  }
}
