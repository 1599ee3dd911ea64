import { parseClientCertHeaderName, parseSettings, readConfig, type PortalConfig, type SettingName } from '@portal/kit';
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
  /** Entity fetches of one request that go to the same subgraph at the same point of the plan are sent as one operation (`SUBGRAPH_FETCH_MERGING`; on unless false; see fetchWaves.ts). */
  mergeEntityFetches?: boolean;
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
export type SubgraphLimits = Pick<GatewayConfig, 'subgraphTimeoutMs' | 'breaker' | 'mergeEntityFetches'>;

export const DEFAULT_SUBGRAPH_LIMITS: SubgraphLimits = { subgraphTimeoutMs: 5_000, breaker: { failures: 3, resetMs: 5_000 }, mergeEntityFetches: true };

/** The setting that holds each subgraph's base URL (deploy/router.yaml names the same). */
export const SUBGRAPH_URL_SETTINGS = {
  identity: 'IDENTITY_URL',
  scheduling: 'SCHEDULING_URL',
  messaging: 'MESSAGING_URL',
  pharmacy: 'PHARMACY_URL',
  'clinical-records': 'CLINICAL_RECORDS_URL',
} as const satisfies Record<SubgraphName, SettingName>;

/** Reads the gateway's settings once at start-up (every setting checked, see kit's settings.ts); `<SUBGRAPH>_URL` overrides a subgraph's base URL. */
export function readGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const portal = readConfig(env);
  const s = parseSettings(env);
  const subgraphUrls = Object.fromEntries(SUBGRAPHS.map((d) => [d.name, s[SUBGRAPH_URL_SETTINGS[d.name]] ?? `http://127.0.0.1:${d.port}`])) as Record<SubgraphName, string>;
  return {
    portal: { ...portal, identityUrl: subgraphUrls.identity },
    port: s.PORT ?? 4000,
    host: s.HOST ?? '127.0.0.1',
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
 * SUBGRAPH_TIMEOUT_MS, SUBGRAPH_BREAKER_FAILURES, SUBGRAPH_BREAKER_RESET_MS and
 * SUBGRAPH_FETCH_MERGING, checked at start-up: a typo stops the start with a message naming the
 * setting, instead of a gateway whose every fetch fails.
 */
export function readSubgraphLimits(env: NodeJS.ProcessEnv = process.env): SubgraphLimits {
  const s = parseSettings(env, ['SUBGRAPH_TIMEOUT_MS', 'SUBGRAPH_BREAKER_FAILURES', 'SUBGRAPH_BREAKER_RESET_MS', 'SUBGRAPH_FETCH_MERGING']);
  return {
    subgraphTimeoutMs: s.SUBGRAPH_TIMEOUT_MS,
    breaker: { failures: s.SUBGRAPH_BREAKER_FAILURES, resetMs: s.SUBGRAPH_BREAKER_RESET_MS },
    mergeEntityFetches: s.SUBGRAPH_FETCH_MERGING ?? true,
  };
}
