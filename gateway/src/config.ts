import { parseClientCertHeaderName, readConfig, type PortalConfig } from '@portal/kit';
import { SUBGRAPHS, type SubgraphName } from './subgraphs';

export interface GatewayConfig {
  portal: PortalConfig;
  port: number;
  host: string;
  subgraphUrls: Record<SubgraphName, string>;
  /** Per-subgraph request timeout, so one hung subgraph cannot hang every request. */
  subgraphTimeoutMs: number;
  /** Per-subgraph circuit breaker, so requests fail at once for a subgraph that is down instead of each waiting out the timeout. */
  breaker: BreakerSettings;
  /** Serve HTTPS itself (`TLS_CERT_FILE`, `TLS_KEY_FILE`), asking each client for a smart card's certificate. */
  tls?: TlsSettings;
  /** The header in which a trusted proxy (TRUSTED_PROXIES) passes on the client certificate (`CLIENT_CERT_HEADER`, e.g. client-cert); none believed when unset. */
  clientCertHeader?: string;
}

export interface TlsSettings {
  /** PEM: the server's certificate (and the chain up to its CA). */
  certFile: string;
  /** PEM: its private key. */
  keyFile: string;
}

export interface BreakerSettings {
  /** Consecutive outage-type failures (timeout, no connection, 5xx, not GraphQL) that open the circuit. */
  failures: number;
  /** How long the circuit stays open before one request probes the subgraph again. */
  resetMs: number;
}

/** The bounds on waiting for subgraphs, as `readSubgraphLimits` reads them from the environment. */
export type SubgraphLimits = Pick<GatewayConfig, 'subgraphTimeoutMs' | 'breaker'>;

export const DEFAULT_SUBGRAPH_LIMITS: SubgraphLimits = { subgraphTimeoutMs: 5_000, breaker: { failures: 3, resetMs: 5_000 } };

const envName = (name: SubgraphName) => `${name.toUpperCase().replace(/-/g, '_')}_URL`;

/** Reads the gateway's settings once at start-up; `<SUBGRAPH>_URL` overrides a subgraph's base URL. */
export function readGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const portal = readConfig(env);
  const port = Number(env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('PORT must be a port number.');
  const subgraphUrls = Object.fromEntries(
    SUBGRAPHS.map((s) => [s.name, (env[envName(s.name)] || `http://127.0.0.1:${s.port}`).replace(/\/$/, '')]),
  ) as Record<SubgraphName, string>;
  return {
    portal: { ...portal, identityUrl: subgraphUrls.identity },
    port,
    host: env.HOST || '127.0.0.1',
    subgraphUrls,
    ...readSubgraphLimits(env),
    tls: readTlsSettings(env),
    clientCertHeader: parseClientCertHeaderName(env.CLIENT_CERT_HEADER),
  };
}

/** TLS_CERT_FILE and TLS_KEY_FILE: both or neither. */
export function readTlsSettings(env: NodeJS.ProcessEnv = process.env): TlsSettings | undefined {
  const certFile = env.TLS_CERT_FILE?.trim();
  const keyFile = env.TLS_KEY_FILE?.trim();
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new Error('TLS_CERT_FILE and TLS_KEY_FILE go together: set both to serve HTTPS, or neither.');
  return { certFile, keyFile };
}

/**
 * SUBGRAPH_TIMEOUT_MS, SUBGRAPH_BREAKER_FAILURES and SUBGRAPH_BREAKER_RESET_MS,
 * checked at start-up: a typo stops the start with a message naming the
 * setting, instead of a gateway whose every fetch fails.
 */
export function readSubgraphLimits(env: NodeJS.ProcessEnv = process.env): SubgraphLimits {
  const d = DEFAULT_SUBGRAPH_LIMITS;
  return {
    subgraphTimeoutMs: wholeNumber(env, 'SUBGRAPH_TIMEOUT_MS', d.subgraphTimeoutMs, 100, 60_000, 'milliseconds'),
    breaker: {
      failures: wholeNumber(env, 'SUBGRAPH_BREAKER_FAILURES', d.breaker.failures, 1, 100, 'failures'),
      resetMs: wholeNumber(env, 'SUBGRAPH_BREAKER_RESET_MS', d.breaker.resetMs, 100, 600_000, 'milliseconds'),
    },
  };
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, unit: string): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number of ${unit} from ${min} to ${max} (got "${raw.slice(0, 40)}").`);
  return n;
}
