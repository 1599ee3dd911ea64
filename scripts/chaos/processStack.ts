/**
 * The portal as an operator runs it: the five subgraphs (`scripts/subgraph.ts`)
 * and the gateway (`scripts/gateway.ts`), each in a child process of its own
 * on a free port, wired by environment variables, on a database of their own
 * for this run (SQLite files in a temporary DATA_DIR, or PostgreSQL schemas
 * under a unique prefix) seeded with the demo cast. PostgreSQL and Redis are
 * reached through fault proxies, so a fault can be injected without stopping
 * the shared servers that other tests use. Shared by the fault tests
 * (scripts/chaos/faults.e2e.test.ts) and `npm run chaos`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { startSubgraph, type PortalConfig } from '@portal/kit';
import { freePort, startFaultProxy, type FaultProxy } from '@portal/kit/testing';
import { SUBGRAPHS, type SubgraphName } from '@portal/gateway';
import { MODULES } from '@portal/server';
import { sleep } from './load';

export type ServiceName = SubgraphName | 'gateway';

const ROOT = path.resolve(__dirname, '..', '..');
/** A start on a loaded 2-core machine compiles every workspace with tsx first: allow for it. */
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 20_000;
const TAIL_LINES = 40;

export interface ProcessStackOptions {
  /** PostgreSQL to put the schemas in (through a fault proxy); SQLite files when unset. */
  databaseUrl?: string;
  /** Redis for sessions (through a fault proxy); sessions in identity's database when unset. */
  redisUrl?: string;
  /** Prefix of the run's schemas and Redis keys: lower-case letters, digits and `_` (e.g. kit testing's `uniqueDatabasePrefix()`). */
  prefix: string;
  /** Prefix of the run's Redis keys (kit testing's `uniqueRedisKeyPrefix()` in tests); derived from `prefix` when unset. */
  redisKeyPrefix?: string;
  /** Where the run's DATA_DIR is created (kit testing's `testTempDir()` in tests); the system's temporary directory when unset. */
  makeDataDir?: () => string;
  /** More settings for every process, e.g. SUBGRAPH_TIMEOUT_MS. */
  env?: Record<string, string>;
}

/** One service's child process; it can be stopped, paused and started again on the same port. */
export class ServiceProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private paused = false;
  /** The last lines the process wrote, for a failure message (the services log no health data). */
  readonly tail: string[] = [];

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and resolves once it answers HTTP (a subgraph: `/health` 200). */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const script = this.name === 'gateway' ? ['scripts/gateway.ts'] : ['scripts/subgraph.ts', this.name];
    // node --import tsx, not the tsx binary: that one runs the script in a second process, which SIGSTOP would miss.
    const child = spawn(process.execPath, ['--import', 'tsx', ...script], { cwd: ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.paused = false;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        this.tail.push(line);
        if (this.tail.length > TAIL_LINES) this.tail.shift();
      }
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    live.add(this);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited while starting:\n${this.tail.join('\n')}`);
      if (await this.answers()) return;
      await sleep(250);
    }
    await this.stop('SIGKILL');
    throw new Error(`${this.name} did not start within ${START_TIMEOUT_MS / 1000} s:\n${this.tail.join('\n')}`);
  }

  private async answers(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      // The gateway is up as soon as it answers: its /health also speaks for the subgraphs.
      return this.name === 'gateway' || res.ok;
    } catch {
      return false;
    }
  }

  /** Sends `signal` and waits for the exit; SIGKILL after a deadline. A paused process is continued first, or it would never see the signal. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    if (this.paused) this.resume();
    child.kill(signal);
    const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), STOP_TIMEOUT_MS).unref());
    if ((await Promise.race([this.exited, timer])) === 'late') {
      child.kill('SIGKILL');
      await this.exited;
    }
    live.delete(this);
  }

  /** SIGSTOP: the process holds its sockets open and answers nothing, like a hung server. */
  pause(): void {
    if (!this.running) throw new Error(`${this.name} is not running`);
    this.child!.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (!this.running) return;
    this.child!.kill('SIGCONT');
    this.paused = false;
  }

  /** For `process.on('exit')`: nothing asynchronous is possible there. */
  killNow(): void {
    if (!this.running) return;
    if (this.paused) this.child!.kill('SIGCONT');
    this.child!.kill('SIGKILL');
  }
}

/** Every child still running, killed if the parent exits without stopping them (a crashed test run). */
const live = new Set<ServiceProcess>();
process.once('exit', () => {
  for (const service of live) service.killNow();
});

export interface ProcessStack {
  gatewayUrl: string;
  graphqlUrl: string;
  dataDir: string;
  databaseKind: 'sqlite' | 'postgres';
  services: Record<ServiceName, ServiceProcess>;
  /** Between the services and PostgreSQL; absent on SQLite. */
  postgresProxy?: FaultProxy;
  /** Between the services and Redis; absent without Redis. */
  redisProxy?: FaultProxy;
  /** Stops every process, then removes the run's directory, schemas and Redis keys. */
  stop(): Promise<void>;
}

/** Seeds the demo cast, then starts the five subgraphs and the gateway, each in a process of its own. */
export async function startProcessStack(options: ProcessStackOptions): Promise<ProcessStack> {
  if (!/^[a-z0-9_]+$/.test(options.prefix)) throw new Error(`Unusable prefix ${options.prefix}`);
  const dataDir = options.makeDataDir ? options.makeDataDir() : fs.mkdtempSync(path.join(os.tmpdir(), 'portal-chaos-'));
  const cleanups: (() => Promise<void>)[] = [async () => fs.rmSync(dataDir, { recursive: true, force: true })];
  const services = {} as Record<ServiceName, ServiceProcess>;
  const stop = async () => {
    const errors: unknown[] = [];
    // The gateway first, so that no request reaches a subgraph that is going.
    for (const service of [services.gateway, ...SUBGRAPHS.map((s) => services[s.name])].filter(Boolean)) {
      await service.stop().catch((e) => errors.push(e));
    }
    for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => errors.push(e));
    if (errors.length) throw errors[0];
  };
  try {
    const schemaOf = (name: SubgraphName) => `${options.prefix}_${name.replace(/-/g, '_')}`;
    let databaseUrl: string | undefined;
    let postgresProxy: FaultProxy | undefined;
    if (options.databaseUrl) {
      cleanups.push(() => dropSchemas(options.databaseUrl!, options.prefix));
      postgresProxy = await startFaultProxy(hostAndPort(options.databaseUrl, 5432));
      cleanups.push(() => postgresProxy!.close());
      databaseUrl = throughProxy(options.databaseUrl, postgresProxy.port);
    }
    let redisUrl: string | undefined;
    let redisProxy: FaultProxy | undefined;
    const redisKeyPrefix = options.redisKeyPrefix ?? `${options.prefix.replace(/_/g, '-')}:`;
    if (options.redisUrl) {
      cleanups.push(() => dropRedisKeys(options.redisUrl!, redisKeyPrefix));
      redisProxy = await startFaultProxy(hostAndPort(options.redisUrl, 6379));
      cleanups.push(() => redisProxy!.close());
      redisUrl = throughProxy(options.redisUrl, redisProxy.port);
    }
    const requestIdSecret = randomBytes(32).toString('hex');

    // The per-process subgraphs never seed: the cast goes in here, straight to the database (not through the proxy).
    await seedDemoCast({ production: false, dataDir, databaseUrl: options.databaseUrl, identityUrl: 'http://127.0.0.1:1', requestIdSecret }, options.databaseUrl ? schemaOf : undefined);

    const ports = Object.fromEntries(await Promise.all([...SUBGRAPHS.map((s) => s.name), 'gateway'].map(async (n) => [n, await freePort()]))) as Record<ServiceName, number>;
    const urlOf = (name: ServiceName) => `http://127.0.0.1:${ports[name]}`;
    const common: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'development',
      PORTAL_QUIET: '1',
      APOLLO_TELEMETRY_DISABLED: '1',
      DATA_DIR: dataDir,
      // Empty means unset (kit config): a DATABASE_URL or REDIS_URL of the caller's shell must not leak in.
      DATABASE_URL: databaseUrl ?? '',
      REDIS_URL: redisUrl ?? '',
      REDIS_KEY_PREFIX: redisKeyPrefix,
      REQUEST_ID_SECRET: requestIdSecret,
      ...Object.fromEntries(SUBGRAPHS.map((s) => [`${s.name.toUpperCase().replace(/-/g, '_')}_URL`, urlOf(s.name)])),
      ...options.env,
    };
    // Pharmacy would need a service client to tell patients of decisions; PortalView does not.
    const { MESSAGING_URL: _unused, ...withoutMessaging } = common;
    for (const { name } of SUBGRAPHS) {
      const env = { ...(name === 'identity' ? common : withoutMessaging), PORT: String(ports[name]), ...(options.databaseUrl ? { DATABASE_SCHEMA: schemaOf(name) } : {}) };
      services[name] = new ServiceProcess(name, ports[name], env);
    }
    services.gateway = new ServiceProcess('gateway', ports.gateway, { ...common, PORT: String(ports.gateway) });
    await Promise.all(SUBGRAPHS.map((s) => services[s.name].start()));
    await services.gateway.start();
    return {
      gatewayUrl: urlOf('gateway'),
      graphqlUrl: `${urlOf('gateway')}/graphql`,
      dataDir,
      databaseKind: options.databaseUrl ? 'postgres' : 'sqlite',
      services,
      postgresProxy,
      redisProxy,
      stop,
    };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}

/**
 * Creates each subgraph's database as `scripts/subgraph.ts` will open it (the
 * SQLite file `<name>.sqlite` in DATA_DIR, or the schema `schemaOf(name)`),
 * migrated and seeded with the demo cast; identity's seed also writes the
 * development signing key and PKI into DATA_DIR, which identity's process reads.
 */
async function seedDemoCast(config: PortalConfig, schemaOf?: (name: SubgraphName) => string): Promise<void> {
  await Promise.all(
    SUBGRAPHS.map(async ({ name }) => {
      const running = await startSubgraph(MODULES[name].create(), { config, port: 0, databaseName: schemaOf?.(name) });
      try {
        await MODULES[name].seed(running.database.dataSource, undefined, config.dataDir);
      } finally {
        await running.close();
      }
    }),
  );
}

function hostAndPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) };
}

function throughProxy(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}


async function dropSchemas(databaseUrl: string, prefix: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)', [`${prefix}_`]);
    for (const { nspname } of rows) await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
  } finally {
    await client.end();
  }
}

async function dropRedisKeys(redisUrl: string, keyPrefix: string): Promise<void> {
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2_000, lazyConnect: true, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
