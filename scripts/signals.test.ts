/**
 * A subgraph in a process of its own stops on SIGTERM and SIGINT: it drains,
 * closes its database and exits 0. Runs once, on SQLite (the process would
 * otherwise take the shared PostgreSQL's `scheduling` schema).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { removeTestDir, testTempDir } from '@portal/kit/testing';

const once = process.env.PORTAL_TEST_DB === 'postgres' ? describe.skip : describe;

once('scripts/subgraph.ts', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('stops on %s and exits 0', async (signal) => {
    const dataDir = testTempDir();
    const root = path.join(__dirname, '..');
    const child = spawn(path.join(root, 'node_modules', '.bin', 'tsx'), ['scripts/subgraph.ts', 'scheduling'], {
      cwd: root,
      env: { ...process.env, DATA_DIR: dataDir, PORT: '0', DATABASE_URL: '', REDIS_URL: '', PORTAL_QUIET: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      child.stderr.on('data', (chunk) => (output += chunk));
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk) => {
          output += chunk;
          const match = /subgraph at (http:\/\/[^\s]+)\/graphql/.exec(output);
          if (match) resolve(match[1]);
        });
        child.once('exit', () => reject(new Error(`exited before listening: ${output}`)));
      });
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill(signal);
      expect(await exited).toBe(0);
      expect(output).toContain(`${signal}: scheduling stopping`);
      await expect(fetch(`${url}/health/live`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      removeTestDir(dataDir);
    }
  });
});
