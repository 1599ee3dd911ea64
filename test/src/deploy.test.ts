/**
 * Images cannot be built here, so the deployment files are checked against each other, the
 * entry points and the README (README, "Deploy"): the Dockerfile, compose.yaml and the
 * Kubernetes manifests under deploy/k8s/. Static: runs once, in the SQLite project.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parseDocument } from 'yaml';
import { SUBGRAPHS } from '@portal/gateway';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const once = process.env.PORTAL_TEST_DB === 'postgres' ? describe.skip : describe;

type Env = Record<string, string>;
interface Expected {
  name: string;
  port: number;
  command: string[];
}
/** What each service runs: the built entry points of @portal/server, on each service's default port. */
const SERVICES: Expected[] = [
  { name: 'gateway', port: 4000, command: ['server/dist/bin/gateway.js'] },
  ...SUBGRAPHS.map((s) => ({ name: s.name as string, port: s.port as number, command: ['server/dist/bin/subgraph.js', s.name] })),
];
const MIGRATE = ['server/dist/bin/migrate.js'];

/** The settings the README's settings table marks **required** in production, and the card issuers (one of two). */
function requiredInProduction(): { all: string[]; oneOf: string[] } {
  const readme = read('README.md');
  const table = readme.slice(readme.indexOf('## Settings'), readme.indexOf('\n## ', readme.indexOf('## Settings') + 1));
  const all = table
    .split('\n')
    .filter((line) => line.startsWith('| `') && /\*\*required\*\* in production/.test(line))
    .map((line) => /^\| `([A-Z0-9_]+)`/.exec(line)![1]);
  const nodeEnv = table.split('\n').find((line) => line.startsWith('| `NODE_ENV`'))!;
  const oneOf = [...nodeEnv.matchAll(/`(SMARTCARD_(?:CAC|PIV)_ISSUERS)`/g)].map((m) => m[1]);
  return { all, oneOf };
}

/** `server/dist/bin/x.js` is the build of `server/src/bin/x.ts`. */
function entryPointExists(script: string): boolean {
  const match = /^server\/dist\/bin\/([a-z-]+)\.js$/.exec(script);
  return !!match && fs.existsSync(path.join(ROOT, 'server', 'src', 'bin', `${match[1]}.ts`));
}

function checkRequired(where: string, env: Env) {
  // Pharmacy refuses to start with MESSAGING_URL but without its service client (readNotifierOptions).
  if (where.endsWith(' pharmacy')) {
    const notifier = ['MESSAGING_URL', 'PHARMACY_CLIENT_ID', 'PHARMACY_CLIENT_SECRET'].map((name) => !!env[name]);
    expect([where, notifier]).toEqual([where, [true, true, true]]);
  }
  const { all, oneOf } = requiredInProduction();
  const missing = all.filter((name) => !env[name]);
  expect([where, missing]).toEqual([where, []]);
  expect([where, oneOf.some((name) => !!env[name])]).toEqual([where, true]);
  expect([where, env.NODE_ENV]).toEqual([where, 'production']);
}

once('deployment files', () => {
  it('the README names the production requirements the checks below use', () => {
    const { all, oneOf } = requiredInProduction();
    expect(all).toEqual(expect.arrayContaining(['TOKEN_SIGNING_KEY_FILE', 'SMARTCARD_CA_FILE', 'SMARTCARD_CRL_FILE', 'REQUEST_ID_SECRET']));
    expect(oneOf.sort()).toEqual(['SMARTCARD_CAC_ISSUERS', 'SMARTCARD_PIV_ISSUERS']);
  });

  describe('Dockerfile', () => {
    const lines = read('Dockerfile')
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const stages: string[][] = [];
    for (const line of lines) {
      if (/^FROM /i.test(line)) stages.push([]);
      stages[stages.length - 1]?.push(line);
    }
    const build = stages[0];
    const runtime = stages[stages.length - 1];

    it('builds in one stage and runs production dependencies only in the other', () => {
      expect(stages.length).toBeGreaterThanOrEqual(2);
      expect(build).toContain('RUN npm run build');
      expect(runtime.some((l) => /^RUN npm ci --omit=dev\b/.test(l))).toBe(true);
      expect(runtime.some((l) => /npm run build|tsx|npm ci(?! --omit=dev)/.test(l) && l.startsWith('RUN'))).toBe(false);
    });

    it('copies every built workspace, the SDL and schema/ into the runtime stage', () => {
      const copies = runtime.filter((l) => l.startsWith('COPY'));
      const workspaces = ['subgraphs/kit', 'subgraphs/demo', ...SUBGRAPHS.map((s) => `subgraphs/${s.name}`), 'gateway', 'server'];
      for (const ws of workspaces) {
        expect([ws, copies.some((l) => l.includes(`/app/${ws}/dist ${ws}/dist`))]).toEqual([ws, true]);
        expect([ws, copies.some((l) => l.includes(`${ws}/package.json`))]).toEqual([ws, true]);
      }
      for (const s of SUBGRAPHS) expect(copies.some((l) => l.includes(`subgraphs/${s.name}/schema.graphql`))).toBe(true);
      expect(copies.some((l) => l.includes('schema/supergraph.graphql'))).toBe(true);
      expect(copies.some((l) => l.includes('schema/operations'))).toBe(true);
    });

    it('runs as a user that is not root, checks /health/live, and starts an entry point by default', () => {
      const user = runtime.find((l) => l.startsWith('USER '))?.slice(5).trim();
      expect(user).toBeDefined();
      expect(['root', '0', '0:0']).not.toContain(user);
      const health = runtime.find((l) => l.startsWith('HEALTHCHECK '));
      expect(health).toMatch(/\/health\/live/);
      expect(health).toMatch(/process\.env\.PORT/);
      expect(runtime).toContain('ENTRYPOINT ["node"]');
      const cmd = JSON.parse(runtime.find((l) => l.startsWith('CMD '))!.slice(4)) as string[];
      expect(cmd).toEqual(SERVICES[0].command);
      const exposed = runtime.find((l) => l.startsWith('EXPOSE '))!.split(/\s+/).slice(1).map(Number);
      expect(exposed.sort()).toEqual(SERVICES.map((s) => s.port).sort());
      expect(runtime.some((l) => /^ENV .*NODE_ENV=production/.test(l))).toBe(true);
      expect(runtime.some((l) => /^ENV .*HOST=0\.0\.0\.0/.test(l))).toBe(true);
    });
  });

  describe('compose.yaml', () => {
    const compose = parseDocument(read('compose.yaml'), { merge: true }).toJS() as {
      services: Record<string, { command?: string[]; environment?: Env; secrets?: string[]; ports?: string[]; depends_on?: Record<string, { condition: string }>; restart?: string; build?: string }>;
      secrets: Record<string, { file: string }>;
    };

    it('runs the five subgraphs and the gateway with their entry points, ports and production settings', () => {
      for (const s of SERVICES) {
        const service = compose.services[s.name];
        expect([s.name, service?.command]).toEqual([s.name, s.command]);
        for (const script of service.command!.filter((c) => c.endsWith('.js'))) expect(entryPointExists(script)).toBe(true);
        const env = service.environment!;
        expect([s.name, env.PORT]).toEqual([s.name, String(s.port)]);
        expect(env.HOST).toBe('0.0.0.0');
        expect(env.DATABASE_URL).toMatch(/^postgres:\/\/.+@postgres:5432\//);
        checkRequired(`compose ${s.name}`, env);
        // Every *_FILE is a secret the service mounts.
        for (const [name, value] of Object.entries(env).filter(([k]) => k.endsWith('_FILE'))) {
          const secret = /^\/run\/secrets\/([a-z-]+)$/.exec(value)?.[1];
          expect([s.name, name, secret && service.secrets?.includes(secret) && !!compose.secrets[secret]]).toEqual([s.name, name, true]);
        }
        // Each service is found at the address the others are given.
        for (const other of SERVICES.slice(1)) {
          expect(env[`${other.name.toUpperCase().replace(/-/g, '_')}_URL`]).toBe(`http://${other.name}:${other.port}`);
        }
      }
      expect(compose.services.gateway.ports).toContain('4000:4000');
    });

    it('migrates once, before any subgraph starts', () => {
      const migrate = compose.services.migrate;
      expect(migrate.command).toEqual(MIGRATE);
      expect(entryPointExists(MIGRATE[0])).toBe(true);
      expect(migrate.restart).toBe('no');
      expect(migrate.environment?.DATABASE_URL).toBe(compose.services.identity.environment?.DATABASE_URL);
      for (const s of SUBGRAPHS) expect(compose.services[s.name].depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
      for (const s of SUBGRAPHS) expect(compose.services.gateway.depends_on?.[s.name]).toEqual({ condition: 'service_healthy' });
      expect(compose.services.postgres).toBeDefined();
      expect(compose.services.redis).toBeDefined();
    });
  });

  describe('deploy/k8s', () => {
    const dir = path.join(ROOT, 'deploy', 'k8s');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    const docs = files.flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => ({ file: f, doc: d.toJS() as any })));
    const of = (kind: string) => docs.filter((d) => d.doc?.kind === kind).map((d) => d.doc);
    const secrets = new Map<string, Record<string, string>>(of('Secret').map((s) => [s.metadata.name, s.stringData ?? s.data]));
    const configMaps = new Map<string, Record<string, string>>(of('ConfigMap').map((c) => [c.metadata.name, c.data]));

    /** A container's environment as the pod sees it: its ConfigMaps, then its own env (values or secret references). */
    function containerEnv(container: any): Env {
      const env: Env = {};
      for (const from of container.envFrom ?? []) Object.assign(env, configMaps.get(from.configMapRef.name));
      for (const e of container.env ?? []) {
        if (e.value !== undefined) env[e.name] = e.value;
        else {
          const ref = e.valueFrom.secretKeyRef;
          expect([e.name, secrets.get(ref.name)?.[ref.key] !== undefined]).toEqual([e.name, true]);
          // An optional reference may leave the variable unset: it does not count as set.
          env[e.name] = ref.optional ? '' : `secret:${ref.name}/${ref.key}`;
        }
      }
      return env;
    }

    it('has a Deployment, Service, autoscaler and disruption budget per service, with the entry point, port and probes', () => {
      for (const s of SERVICES) {
        const deployment = of('Deployment').find((d) => d.metadata.name === s.name);
        expect([s.name, !!deployment]).toEqual([s.name, true]);
        const pod = deployment.spec.template.spec;
        const [container] = pod.containers;
        expect(container.args).toEqual(s.command);
        const port = container.ports.find((p: any) => p.name === 'http');
        expect(port.containerPort).toBe(s.port);
        const env = containerEnv(container);
        expect(env.PORT).toBe(String(s.port));
        expect(env.HOST).toBe('0.0.0.0');
        expect(env.DATABASE_URL).toMatch(/^secret:/);
        checkRequired(`k8s ${s.name}`, env);
        expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
        expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
        for (const r of ['cpu', 'memory']) {
          expect(container.resources.requests[r]).toBeDefined();
          expect(container.resources.limits[r]).toBeDefined();
        }
        expect(pod.securityContext.runAsNonRoot).toBe(true);
        expect(pod.securityContext.runAsUser).not.toBe(0);
        expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
        // Every *_FILE lies in a mounted Secret that has that file.
        for (const [name, value] of Object.entries(env).filter(([k]) => k.endsWith('_FILE'))) {
          const mount = container.volumeMounts.find((m: any) => value.startsWith(`${m.mountPath}/`));
          const volume = mount && pod.volumes.find((v: any) => v.name === mount.name);
          const secret = volume?.secret && secrets.get(volume.secret.secretName);
          expect([s.name, name, !!secret && secret[path.basename(value)] !== undefined]).toEqual([s.name, name, true]);
        }
        const labels = deployment.spec.template.metadata.labels;
        expect(deployment.spec.selector.matchLabels).toEqual(labels);
        const service = of('Service').find((x) => x.metadata.name === s.name);
        expect(service.spec.selector).toEqual(labels);
        expect(service.spec.ports).toEqual([expect.objectContaining({ port: s.port, targetPort: 'http' })]);
        const hpa = of('HorizontalPodAutoscaler').find((x) => x.spec.scaleTargetRef.name === s.name);
        expect(hpa.spec.scaleTargetRef.kind).toBe('Deployment');
        expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
        expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
        const pdb = of('PodDisruptionBudget').find((x) => x.metadata.name === s.name);
        expect(pdb.spec.selector.matchLabels).toEqual(labels);
        expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
        // The drain (SHUTDOWN_GRACE_MS, 10 s by default, plus 5 s) fits in the pod's grace.
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(15);
      }
    });

    it('gives every service the others at their Services', () => {
      const config = configMaps.get('portal-config')!;
      for (const s of SERVICES.slice(1)) expect(config[`${s.name.toUpperCase().replace(/-/g, '_')}_URL`]).toBe(`http://${s.name}:${s.port}`);
    });

    it('runs the migrations as a one-shot Job', () => {
      const [job] = of('Job');
      const [container] = job.spec.template.spec.containers;
      expect(container.args).toEqual(MIGRATE);
      expect(job.spec.template.spec.restartPolicy).toBe('Never');
      expect(containerEnv(container).DATABASE_URL).toMatch(/^secret:/);
      expect(job.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    });

    it('kustomization.yaml applies every manifest but the example Secrets', () => {
      const kustomization = of('Kustomization')[0];
      expect([...kustomization.resources].sort()).toEqual(files.filter((f) => !['kustomization.yaml', 'secrets.example.yaml'].includes(f)).sort());
    });
  });

  it('the README\'s "Deploy" section names the entry points, the probes and the migrations job', () => {
    const readme = read('README.md');
    const start = readme.indexOf('\n## Deploy');
    expect(start).toBeGreaterThan(0);
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    for (const script of ['server/dist/bin/gateway.js', 'server/dist/bin/subgraph.js', 'server/dist/bin/migrate.js', 'server/dist/bin/create-service-client.js', '/health/live', '/health/ready', 'deploy/k8s', 'compose.yaml', 'Dockerfile']) {
      expect([script, section.includes(script)]).toEqual([script, true]);
    }
    for (const name of requiredInProduction().all) expect([name, section.includes(name)]).toEqual([name, true]);
  });
});
