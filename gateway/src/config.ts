import { readConfig, type PortalConfig } from '@portal/kit';
import { SUBGRAPHS, type SubgraphName } from './subgraphs';

export interface GatewayConfig {
  portal: PortalConfig;
  port: number;
  host: string;
  subgraphUrls: Record<SubgraphName, string>;
  /** Per-subgraph request timeout, so one hung subgraph cannot hang every request. */
  subgraphTimeoutMs: number;
}

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
    subgraphTimeoutMs: Number(env.SUBGRAPH_TIMEOUT_MS ?? 15_000),
  };
}
