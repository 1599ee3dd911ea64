import fs from 'node:fs';
import path from 'node:path';
import { removeTestDir, testTempDir } from '@portal/kit/src/testing';
import { isSubgraphName, migrate, subgraphPort, SUBGRAPH_NAMES } from './services';

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
