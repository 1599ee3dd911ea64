import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { removeTestDir, TEST_REQUEST_ID_SECRET, testTempDir } from '@portal/kit/testing';
import { isSubgraphName, migrate, stackThreads, startOneSubgraph, subgraphPort, SUBGRAPH_NAMES } from './services';
import { parseSettings } from '@portal/kit';
import { MODULES } from './stack';
import { devCaFile, devCrlFile, ensureDevPki } from '@portal/identity';

describe('stackThreads (npm start on one thread or two)', () => {
  it('uses both cores by default, unless one METRICS_PORT is to serve every service or there is one core', () => {
    expect(parseSettings({}, ['STACK_THREADS']).STACK_THREADS).toBe('auto');
    expect(stackThreads('auto', false, 2)).toBe(2);
    expect(stackThreads('auto', true, 2)).toBe(1);
    expect(stackThreads('auto', false, 1)).toBe(1);
  });

  it('does as told with 1 or 2, and refuses anything else', () => {
    expect(stackThreads(parseSettings({ STACK_THREADS: '1' }, ['STACK_THREADS']).STACK_THREADS!, false, 8)).toBe(1);
    expect(stackThreads(parseSettings({ STACK_THREADS: ' 2 ' }, ['STACK_THREADS']).STACK_THREADS!, false, 1)).toBe(2);
    expect(() => parseSettings({ STACK_THREADS: '3' }, ['STACK_THREADS'])).toThrow(/STACK_THREADS must be auto, 1 or 2/);
  });
});

describe('subgraphPort', () => {
  it('takes <NAME>_PORT, else PORT, else the default', () => {
    expect(subgraphPort('identity', {})).toBe(4001);
    expect(subgraphPort('clinical-records', {})).toBe(4005);
    expect(subgraphPort('scheduling', { PORT: '5302' })).toBe(5302);
    expect(subgraphPort('clinical-records', { PORT: '5302', CLINICAL_RECORDS_PORT: '5303' })).toBe(5303);
    expect(subgraphPort('pharmacy', { PORT: '0' })).toBe(0);
  });

  it('refuses a port that is not one, naming the setting', () => {
    expect(() => subgraphPort('identity', { PORT: 'http' })).toThrow(/^PORT must be a port number/);
    expect(() => subgraphPort('messaging', { MESSAGING_PORT: '70000' })).toThrow(/^MESSAGING_PORT must be a port number/);
    expect(() => subgraphPort('messaging', { MESSAGING_PORT: '4.5' })).toThrow(/MESSAGING_PORT/);
    expect(() => subgraphPort('messaging', { PORT: '0x10' })).toThrow(/PORT/);
    expect(() => subgraphPort('messaging', { PORT: ' ' })).toThrow(/PORT/);
  });
});

describe('migrate (the one-shot job)', () => {
  it('knows the five subgraphs only', () => {
    expect(SUBGRAPH_NAMES).toEqual(['identity', 'scheduling', 'messaging', 'pharmacy', 'clinical-records']);
    expect(isSubgraphName('gateway')).toBe(false);
  });

  it('refuses an unknown subgraph, and DATABASE_SCHEMA with more than one', async () => {
    await expect(migrate(['billing'], { DATA_DIR: '/nonexistent' })).rejects.toThrow(/unknown subgraph "billing"/);
    await expect(migrate([], { DATABASE_SCHEMA: 'x', DATA_DIR: '/nonexistent' })).rejects.toThrow(/name one subgraph/);
  });

  it('creates and migrates every subgraph database without the production files (SQLite)', async () => {
    const dataDir = testTempDir('portal-migrate-');
    try {
      // NODE_ENV=production without a signing key or card files: the job needs the database only.
      const env = { NODE_ENV: 'production', DATA_DIR: dataDir, PORTAL_QUIET: '1' };
      expect(await migrate([], env)).toEqual(SUBGRAPH_NAMES);
      for (const name of SUBGRAPH_NAMES) expect(fs.existsSync(path.join(dataDir, `${name}.sqlite`))).toBe(true);
      // Again: nothing left to do.
      expect(await migrate(['pharmacy'], env)).toEqual(['pharmacy']);
    } finally {
      removeTestDir(dataDir);
    }
  });
});

describe('startOneSubgraph (a subgraph in a process of its own)', () => {
  async function productionEnv(dataDir: string): Promise<NodeJS.ProcessEnv> {
    const key = path.join(dataDir, 'prod-signing-key.pem');
    fs.writeFileSync(key, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    // The card files must exist and parse (identity reads them at start); a PKI like the
    // development one, written beside the key, stands in: smart-card checks are tested elsewhere.
    const pkiDir = path.join(dataDir, 'prod-pki');
    await ensureDevPki(pkiDir);
    const ca = devCaFile(pkiDir);
    const crl = devCrlFile(pkiDir);
    return {
      NODE_ENV: 'production',
      DATA_DIR: dataDir,
      PORT: '0',
      PORTAL_QUIET: '1',
      TOKEN_SIGNING_KEY_FILE: key,
      SMARTCARD_CA_FILE: ca,
      SMARTCARD_CRL_FILE: crl,
      SMARTCARD_CAC_ISSUERS: 'CN=Some CA, O=Somewhere, C=US',
      REQUEST_ID_SECRET: TEST_REQUEST_ID_SECRET,
    };
  }

  it('refuses a name that is not a subgraph', async () => {
    await expect(startOneSubgraph('gateway', {})).rejects.toThrow(/name a subgraph: identity\|scheduling/);
  });

  it('in production, identity alone starts on a fresh database and refuses one that holds the demo cast (SQLite)', async () => {
    const dataDir = testTempDir('portal-one-');
    try {
      const fresh = await startOneSubgraph('identity', await productionEnv(dataDir));
      try {
        expect(fresh.name).toBe('identity');
        expect((await fetch(`${fresh.url}/health/ready`)).status).toBe(200);
      } finally {
        await fresh.close();
      }
      // The demo cast, seeded by a development start on the same database.
      const dev = await startOneSubgraph('identity', { DATA_DIR: dataDir, PORT: '0', PORTAL_QUIET: '1' });
      try {
        await MODULES.identity.seed(dev.database.dataSource);
      } finally {
        await dev.close();
      }
      // Closed again should it start, so a failure here leaves nothing running.
      const refused = await startOneSubgraph('identity', await productionEnv(dataDir)).then(
        async (s) => (await s.close(), 'started'),
        (e: Error) => e.message,
      );
      expect(refused).toMatch(/holds the demo cast/);
    } finally {
      removeTestDir(dataDir);
    }
  });
});
