/**
 * The production smoke test (README, "Deploy"): what an operator deploys, run as they run it.
 * `npm run build`; the build (package files, each workspace's dist/, the SDL and schema/) is
 * copied to a fresh directory and installed there without dev dependencies
 * (`npm ci --omit=dev`); a signing key, a CA with its CRL and a card are generated; the
 * migrations job runs; the five subgraphs and the gateway start as six `node` processes with
 * NODE_ENV=production on fresh PostgreSQL schemas; then requests go through the gateway:
 * health, nothing for no token and a refused forged one, a first CAC sign-in (which creates the patient's
 * account) and PortalView. Every process is stopped by SIGTERM (each must exit 0) and the
 * schemas and the directory are removed.
 *
 * PostgreSQL only (production's database), so it runs once, in the `postgres` project: when
 * TEST_DATABASE_URL is set (`.ci/run` sets it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { parse, print, type OperationDefinitionNode } from 'graphql';
import { Client } from 'pg';
import { dropTestDatabases, freePort, gql, removeTestDir, testDatabaseUrl, testTempDir, uniqueDatabasePrefix } from '@portal/kit/testing';
import { DEV_CAC_CA, devCardFiles, ensureDevPki, signChallenge } from '@portal/identity';

const ROOT = path.resolve(__dirname, '..', '..');
const WORKSPACES = ['subgraphs/kit', 'subgraphs/demo', 'subgraphs/identity', 'subgraphs/scheduling', 'subgraphs/messaging', 'subgraphs/pharmacy', 'subgraphs/clinical-records', 'gateway', 'server', 'test'];
const SUBGRAPHS = ['identity', 'scheduling', 'messaging', 'pharmacy', 'clinical-records'] as const;
type Name = (typeof SUBGRAPHS)[number] | 'gateway';

const runs = process.env.PORTAL_TEST_DB === 'postgres' && testDatabaseUrl() ? describe : describe.skip;

interface Service {
  name: Name;
  url: string;
  child: ChildProcess;
  output: () => string;
}

let dir: string | undefined;
let prefix: string | undefined;
const services: Service[] = [];


/** Copies what the Dockerfile's runtime stage copies: package files, dist/, the SDL, schema/. */
function copyBuild(to: string): void {
  for (const file of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(ROOT, file), path.join(to, file));
  fs.cpSync(path.join(ROOT, 'schema'), path.join(to, 'schema'), { recursive: true });
  for (const ws of WORKSPACES) {
    fs.mkdirSync(path.join(to, ws), { recursive: true });
    fs.copyFileSync(path.join(ROOT, ws, 'package.json'), path.join(to, ws, 'package.json'));
    const dist = path.join(ROOT, ws, 'dist');
    if (fs.existsSync(dist)) fs.cpSync(dist, path.join(to, ws, 'dist'), { recursive: true, filter: (f) => !f.endsWith('.tsbuildinfo') });
    const sdl = path.join(ROOT, ws, 'schema.graphql');
    if (fs.existsSync(sdl)) fs.copyFileSync(sdl, path.join(to, ws, 'schema.graphql'));
  }
}

/** A production process's environment: only what it is given (no developer's settings leak in). */
function productionEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', HOST: '127.0.0.1', APOLLO_TELEMETRY_DISABLED: '1', ...extra };
}

function runNode(cwd: string, args: string[], env: NodeJS.ProcessEnv): string {
  return execFileSync(process.execPath, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Starts `node <script> [name]` and waits for its "... at http://..." line. */
async function start(cwd: string, name: Name, script: string, args: string[], env: NodeJS.ProcessEnv): Promise<Service> {
  const child = spawn(process.execPath, [script, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const service: Service = { name, url: '', child, output: () => output };
  services.push(service);
  service.url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = / at (http:\/\/\S+)\/graphql/.exec(output);
      if (match) {
        clearInterval(timer);
        resolve(match[1]);
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`${name} exited (${code}) before listening:\n${output}`));
    });
  });
  return service;
}

async function stop(service: Service): Promise<number | null> {
  if (service.child.exitCode !== null) return service.child.exitCode;
  const exited = new Promise<number | null>((resolve) => service.child.once('exit', (code) => resolve(code)));
  service.child.kill('SIGTERM');
  return exited;
}

afterAll(async () => {
  try {
    for (const s of services) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    if (prefix) await dropTestDatabases(prefix);
  } finally {
    removeTestDir(dir);
  }
}, 60_000);

runs('the production build (built JavaScript, no dev dependencies, NODE_ENV=production, PostgreSQL)', () => {
  let gatewayUrl = '';
  let cardDir = '';

  beforeAll(async () => {
    dir = testTempDir('portal-smoke-');
    prefix = uniqueDatabasePrefix();
    execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-b', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    copyBuild(app);
    // --ignore-scripts: the only install script left is better-sqlite3's native build, and
    // production runs on PostgreSQL (the Dockerfile's install runs it).
    execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, stdio: 'pipe', env: { ...process.env, NODE_ENV: 'production' } });

    // Secrets and trust, generated as an operator's would be: a P-256 signing key, a CA bundle with
    // its CRLs (the development PKI's generator: a root, a CAC CA, a PIV CA, and cards they issued).
    const secrets = path.join(dir, 'secrets');
    fs.mkdirSync(secrets, { mode: 0o700 });
    const key = path.join(secrets, 'token-signing-key.pem');
    fs.writeFileSync(key, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    cardDir = path.join(dir, 'cards');
    const pki = await ensureDevPki(cardDir);
    const databaseUrl = testDatabaseUrl()!;
    const schemaOf = (name: string) => `${prefix}_${name.replace(/-/g, '_')}`;
    const ports = Object.fromEntries(await Promise.all([...SUBGRAPHS, 'gateway' as const].map(async (n) => [n, await freePort()]))) as Record<Name, number>;
    const urls = Object.fromEntries(SUBGRAPHS.map((n) => [`${n.toUpperCase().replace(/-/g, '_')}_URL`, `http://127.0.0.1:${ports[n]}`]));
    const common = {
      DATABASE_URL: databaseUrl,
      DATA_DIR: path.join(dir, 'data'),
      TOKEN_SIGNING_KEY_FILE: key,
      SMARTCARD_CA_FILE: path.join(pki, 'ca.pem'),
      SMARTCARD_CRL_FILE: path.join(pki, 'crl.pem'),
      SMARTCARD_CAC_ISSUERS: DEV_CAC_CA,
      REQUEST_ID_SECRET: randomBytes(32).toString('hex'),
      ...urls,
    };

    // The migrations job, one subgraph (one schema) at a time.
    for (const name of SUBGRAPHS) {
      expect(runNode(app, ['server/dist/bin/migrate.js', name], productionEnv({ ...common, DATABASE_SCHEMA: schemaOf(name) }))).toContain(`migrated: ${name}`);
    }
    // An operator's enrolment: a patient known to identity (no account yet) whose CAC is one of the cards.
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      await db.query(
        `INSERT INTO "${schemaOf('identity')}".person (id, kind, dod_id, given_name, middle_name, family_name, date_of_birth, specialty)
         VALUES ('pt-smoke-1', 'PATIENT', '1000000001', 'Jane', 'A', 'Doe', '1990-04-12', NULL)`,
      );
    } finally {
      await db.end();
    }

    // Pharmacy's outbox worker tells patients of decisions as service client `pharmacy`.
    const created = runNode(app, ['server/dist/bin/create-service-client.js', 'pharmacy', 'messaging:write'], productionEnv({ ...common, DATABASE_SCHEMA: schemaOf('identity') }));
    const pharmacySecret = /client_secret: (\S+)/.exec(created)![1];
    const subgraphEnv = (name: (typeof SUBGRAPHS)[number]) =>
      productionEnv({
        ...common,
        PORT: String(ports[name]),
        DATABASE_SCHEMA: schemaOf(name),
        ...(name === 'pharmacy' ? { PHARMACY_CLIENT_ID: 'pharmacy', PHARMACY_CLIENT_SECRET: pharmacySecret } : {}),
      });
    await start(app, 'identity', 'server/dist/bin/subgraph.js', ['identity'], subgraphEnv('identity'));
    await Promise.all(SUBGRAPHS.filter((n) => n !== 'identity').map((n) => start(app, n, 'server/dist/bin/subgraph.js', [n], subgraphEnv(n))));
    const gateway = await start(app, 'gateway', 'server/dist/bin/gateway.js', [], productionEnv({ ...common, PORT: String(ports.gateway) }));
    gatewayUrl = gateway.url;
  }, 300_000);

  it('installs without dev dependencies and runs plain JavaScript', () => {
    const modules = path.join(dir!, 'app', 'node_modules');
    for (const dev of ['typescript', 'tsx', 'jest', '@swc/core', '@swc/jest', 'turbo']) expect(fs.existsSync(path.join(modules, dev))).toBe(false);
    expect(fs.existsSync(path.join(modules, '@portal', 'server', 'dist', 'bin', 'gateway.js'))).toBe(true);
    expect(fs.existsSync(path.join(modules, '@portal', 'kit', 'src'))).toBe(false);
    expect(services.map((s) => s.name).sort()).toEqual([...SUBGRAPHS, 'gateway'].sort());
  });

  it('every service is live and ready', async () => {
    for (const s of services) {
      expect([s.name, (await fetch(`${s.url}/health/live`)).status]).toEqual([s.name, 200]);
      expect([s.name, (await fetch(`${s.url}/health/ready`)).status]).toEqual([s.name, 200]);
    }
  });

  it('shows nothing without a token, refuses a forged one and introspection, answers a public query', async () => {
    const anonymous = await gql(`${gatewayUrl}/graphql`, '{ me { account { id } } }');
    expect(anonymous.errors).toBeUndefined();
    expect(anonymous.data).toEqual({ me: null });
    const forged = await gql(`${gatewayUrl}/graphql`, '{ me { account { id } } }', {}, 'eyJhbGciOiJFUzI1NiJ9.e30.c2lnbmF0dXJl');
    expect(forged.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const schema = await gql(`${gatewayUrl}/graphql`, '{ __schema { types { name } } }');
    expect(schema.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const contacts = await gql(`${gatewayUrl}/graphql`, '{ supportContacts { phone } }');
    expect(contacts.errors).toBeUndefined();
    expect(contacts.data.supportContacts.length).toBeGreaterThan(0);
  });

  it('signs in by CAC (creating the account) and answers PortalView from all five subgraphs', async () => {
    const graphqlUrl = `${gatewayUrl}/graphql`;
    const challenge = await gql(graphqlUrl, '{ smartCardChallenge { challenge } }');
    expect(challenge.errors).toBeUndefined();
    const files = devCardFiles(cardDir, 'jane');
    const proof = {
      certificate: fs.readFileSync(files.certificate, 'utf8'),
      challenge: challenge.data.smartCardChallenge.challenge,
      signature: signChallenge(fs.readFileSync(files.privateKey, 'utf8'), challenge.data.smartCardChallenge.challenge),
    };
    const signIn = await gql(
      graphqlUrl,
      'mutation ($certificate: String!, $challenge: String!, $signature: String!) { signInWithSmartCard(input: { certificate: $certificate, challenge: $challenge, signature: $signature }) { accessToken account { id status } } }',
      proof,
    );
    expect(signIn.errors).toBeUndefined();
    expect(signIn.data.signInWithSmartCard.account.status).toBe('ACTIVE');
    const token = signIn.data.signInWithSmartCard.accessToken as string;

    const contract = parse(fs.readFileSync(path.join(ROOT, 'schema', 'operations', 'portal.graphql'), 'utf8'));
    const portalView = contract.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition' && d.name?.value === 'PortalView')!;
    const view = await gql(graphqlUrl, print(portalView), {}, token);
    expect(view.errors).toBeUndefined();
    expect(view.data.me.patient).toMatchObject({ id: 'pt-smoke-1', dodId: '1000000001', upcomingAppointments: [], prescriptions: [] });
    expect(view.data.me.session.method).toBe('CAC');
  });

  it('stops every service on SIGTERM with exit code 0, the gateway first and identity last', async () => {
    const order: Name[] = ['gateway', 'scheduling', 'messaging', 'pharmacy', 'clinical-records', 'identity'];
    for (const name of order) {
      const s = services.find((x) => x.name === name)!;
      expect([name, await stop(s)]).toEqual([name, 0]);
    }
    // No stack trace, SQL or health data reached the logs of the run.
    for (const s of services) {
      expect(s.output()).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
      expect(s.output()).not.toContain('1990-04-12');
    }
  });
});
