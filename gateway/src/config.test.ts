import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_SUBGRAPH_LIMITS, readGatewayConfig, readSubgraphLimits } from './config';

describe('readSubgraphLimits', () => {
  it('defaults to a timeout of 5 s, a circuit that opens after 3 outages in a row, for 5 s, and entity fetches merged', () => {
    expect(readSubgraphLimits({})).toEqual({ subgraphTimeoutMs: 5_000, breaker: { failures: 3, resetMs: 5_000 }, mergeEntityFetches: true });
    expect(readSubgraphLimits({})).toEqual(DEFAULT_SUBGRAPH_LIMITS);
    expect(readSubgraphLimits({ SUBGRAPH_TIMEOUT_MS: '', SUBGRAPH_BREAKER_FAILURES: '  ' })).toEqual(DEFAULT_SUBGRAPH_LIMITS);
  });

  it('takes whole numbers within range', () => {
    expect(readSubgraphLimits({ SUBGRAPH_TIMEOUT_MS: '2500', SUBGRAPH_BREAKER_FAILURES: '1', SUBGRAPH_BREAKER_RESET_MS: '600000' })).toEqual({
      subgraphTimeoutMs: 2_500,
      breaker: { failures: 1, resetMs: 600_000 },
      mergeEntityFetches: true,
    });
  });

  it('turns entity fetch merging off with SUBGRAPH_FETCH_MERGING=0, and refuses anything but 1 or 0', () => {
    expect(readSubgraphLimits({ SUBGRAPH_FETCH_MERGING: '0' }).mergeEntityFetches).toBe(false);
    expect(readSubgraphLimits({ SUBGRAPH_FETCH_MERGING: '1' }).mergeEntityFetches).toBe(true);
    expect(() => readSubgraphLimits({ SUBGRAPH_FETCH_MERGING: 'off' })).toThrow(/SUBGRAPH_FETCH_MERGING must be 1 or 0/);
  });

  it.each([
    ['SUBGRAPH_TIMEOUT_MS', '5s'],
    ['SUBGRAPH_TIMEOUT_MS', '5000ms'],
    ['SUBGRAPH_TIMEOUT_MS', '1e4'],
    ['SUBGRAPH_TIMEOUT_MS', '-1'],
    ['SUBGRAPH_TIMEOUT_MS', '2.5'],
    ['SUBGRAPH_TIMEOUT_MS', '0'],
    ['SUBGRAPH_TIMEOUT_MS', '99'],
    ['SUBGRAPH_TIMEOUT_MS', '60001'],
    ['SUBGRAPH_BREAKER_FAILURES', '0'],
    ['SUBGRAPH_BREAKER_FAILURES', '101'],
    ['SUBGRAPH_BREAKER_FAILURES', 'three'],
    ['SUBGRAPH_BREAKER_RESET_MS', '50'],
    ['SUBGRAPH_BREAKER_RESET_MS', '600001'],
  ])('refuses to start with %s=%s, naming the setting and its range', (name, value) => {
    expect(() => readSubgraphLimits({ [name]: value })).toThrow(new RegExp(`^${name} must be a whole number of \\w+ from \\d+ to \\d+ \\(got "${value.replace('.', '\\.')}"\\)\\.$`));
  });
});

describe('readGatewayConfig', () => {
  it('carries the subgraph limits, and a typo in one stops the start', () => {
    expect(readGatewayConfig({ SUBGRAPH_BREAKER_RESET_MS: '2000' })).toMatchObject({ subgraphTimeoutMs: 5_000, breaker: { failures: 3, resetMs: 2_000 } });
    expect(() => readGatewayConfig({ SUBGRAPH_TIMEOUT_MS: '5s' })).toThrow(/^SUBGRAPH_TIMEOUT_MS must be/);
  });
});

describe('.env.example', () => {
  it('gives the gateway the configuration of an empty environment: its values are the defaults', () => {
    const example = Object.fromEntries(
      fs
        .readFileSync(path.resolve(__dirname, '../../.env.example'), 'utf8')
        .split('\n')
        .map((line) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1], m[2]]),
    );
    expect(readGatewayConfig(example)).toEqual(readGatewayConfig({}));
    expect(readGatewayConfig({}).subgraphUrls).toEqual({
      identity: 'http://127.0.0.1:4001',
      scheduling: 'http://127.0.0.1:4002',
      messaging: 'http://127.0.0.1:4003',
      pharmacy: 'http://127.0.0.1:4004',
      'clinical-records': 'http://127.0.0.1:4005',
    });
  });

  it('refuses a subgraph URL that is not http(s), naming it', () => {
    expect(() => readGatewayConfig({ SCHEDULING_URL: '127.0.0.1:4002' })).toThrow(/^SCHEDULING_URL must be an http\(s\):\/\/ URL/);
  });
});

describe('TLS and client certificates', () => {
  it('serves HTTPS with both TLS files, plain HTTP with neither, and refuses one alone', () => {
    expect(readGatewayConfig({}).tls).toBeUndefined();
    expect(readGatewayConfig({ TLS_CERT_FILE: '/etc/portal/tls.pem', TLS_KEY_FILE: '/etc/portal/tls.key' }).tls).toEqual({ certFile: '/etc/portal/tls.pem', keyFile: '/etc/portal/tls.key' });
    expect(() => readGatewayConfig({ TLS_CERT_FILE: '/etc/portal/tls.pem' })).toThrow(/TLS_CERT_FILE and TLS_KEY_FILE go together/);
    expect(() => readGatewayConfig({ TLS_KEY_FILE: '/etc/portal/tls.key' })).toThrow(/TLS_CERT_FILE and TLS_KEY_FILE go together/);
  });

  it('believes no proxy’s certificate header unless CLIENT_CERT_HEADER names one', () => {
    expect(readGatewayConfig({}).clientCertHeader).toBeUndefined();
    expect(readGatewayConfig({ CLIENT_CERT_HEADER: 'Client-Cert' }).clientCertHeader).toBe('client-cert');
    expect(() => readGatewayConfig({ CLIENT_CERT_HEADER: 'Authorization' })).toThrow(/CLIENT_CERT_HEADER/);
  });
});
