/**
 * A subgraph that stops (SIGTERM, a deploy) finishes what it is doing: the
 * request in flight is answered and audited, readiness says 503 at once, and
 * only then does the database close.
 */
import net from 'node:net';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { parse } from 'graphql';
import path from 'node:path';
import type { PortalConfig } from './config';
import { openDatabase, type PortalDataSource } from './db';
import type { SubgraphContext, SubgraphModule } from './subgraph';
import { gql, removeTestDir, startTestSubgraph, type TestSubgraph } from './testing';
import { anyOf, careTeam, definePolicy, patientSelf, serviceScope } from './policy';

/** The test subgraph's declared policy: an appointment of the patient, as scheduling's is. */
const testPolicy = definePolicy({
  healthTypes: [],
  otherTypes: {},
  openFields: {},
  entries: { 'Query.slow': { allow: anyOf(patientSelf, careTeam, serviceScope('scheduling:read')), audit: { kind: 'appointment', action: 'read' } } },
});

/** A subgraph of one slow field: it waits for the test's word, then checks access (an audit row) and answers. */
function slowModule() {
  let release!: () => void;
  let entered!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const started = new Promise<void>((resolve) => (entered = resolve));
  const module: SubgraphModule<SubgraphContext> = {
    name: 'slow',
    typeDefs: parse(`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
      type Query { slow(patientId: ID!): String }
    `),
    resolvers: {
      Query: {
        slow: async (_: unknown, { patientId }: { patientId: string }, ctx: SubgraphContext) => {
          entered();
          await gate;
          await testPolicy.assert('Query.slow', ctx.access, patientId);
          return 'done';
        },
      },
    },
    entities: [],
    migrations: [],
    createContext: (base) => base,
  };
  return { module, release, started };
}

/** The audit rows of a request, read through a data source of its own (the subgraph's is closed by then). */
async function auditRowsOf(database: PortalDataSource, config: PortalConfig, requestId: string): Promise<{ outcome: string; record_kind: string }[]> {
  const options = database.dataSource.options as { database?: string; schema?: string };
  const name = database.kind === 'sqlite' ? path.basename(options.database!, '.sqlite') : options.schema!;
  const reader = await openDatabase({ name, schema: name, entities: [], migrations: [], dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  try {
    return await reader.dataSource.query(`SELECT outcome, record_kind FROM audit_event WHERE request_id = '${requestId}'`);
  } finally {
    await reader.dataSource.destroy();
  }
}

/** Sends the first lines of a request and keeps the rest back, so its connection is busy (not idle) when the server starts to stop. */
async function halfSentRequest(port: number, path: string): Promise<{ finish(): Promise<string> }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n`);
  // Let the server read what was sent before the test goes on.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return {
    finish: async () => {
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('utf8')));
      socket.write('\r\n');
      await once(socket, 'close');
      return text;
    },
  };
}

async function cleanUp(subgraph: TestSubgraph): Promise<void> {
  try {
    await subgraph.server.close();
  } finally {
    try {
      await subgraph.server.database.destroyAndDrop();
    } finally {
      removeTestDir(subgraph.server.runtime.config.dataDir);
    }
  }
}

describe('stopping a subgraph', () => {
  it('answers the request in flight (200, audited), says 503 to readiness meanwhile, then refuses connections', async () => {
    const slow = slowModule();
    const subgraph = await startTestSubgraph(slow.module);
    try {
      const jane = `pt-${randomUUID()}`;
      const token = await subgraph.token({ personId: jane });
      const requestId = randomUUID();
      const inFlight = gql(subgraph.url, 'query ($id: ID!) { slow(patientId: $id) }', { id: jane }, token, { 'x-request-id': requestId });
      await slow.started;
      const probe = await halfSentRequest(subgraph.server.port, '/health/ready');

      let closed = false;
      const closing = subgraph.server.close().then(() => (closed = true));
      const readiness = await probe.finish();
      expect(readiness).toMatch(/^HTTP\/1\.1 503 /);
      expect(readiness).toMatch(/\r\nconnection: close\r\n/i);
      expect(readiness).toContain('"stopping":true');
      expect(closed).toBe(false);

      slow.release();
      const answer = await inFlight;
      expect(answer).toEqual({ status: 200, data: { slow: 'done' } });
      await closing;
      expect(await auditRowsOf(subgraph.server.database, subgraph.server.runtime.config, requestId)).toEqual([{ outcome: 'ALLOWED', record_kind: 'appointment' }]);
      expect(subgraph.server.database.dataSource.isInitialized).toBe(false);
      await expect(fetch(`${subgraph.server.url}/health/live`)).rejects.toThrow();
    } finally {
      slow.release();
      await cleanUp(subgraph);
    }
  });

  it('cuts what is still running once the shutdown grace is over, and still stops', async () => {
    const slow = slowModule();
    const subgraph = await startTestSubgraph(slow.module, { configOverrides: { shutdownGraceMs: 100 } });
    try {
      const jane = `pt-${randomUUID()}`;
      const inFlight = gql(subgraph.url, 'query ($id: ID!) { slow(patientId: $id) }', { id: jane }, await subgraph.token({ personId: jane }));
      await slow.started;
      await subgraph.server.close();
      await expect(inFlight).rejects.toThrow();
      await expect(fetch(`${subgraph.server.url}/health/live`)).rejects.toThrow();
    } finally {
      slow.release();
      await cleanUp(subgraph);
    }
  });
});

describe('health endpoints', () => {
  it('/health/live answers while the process works; /health/ready, /health and /ready while the database answers', async () => {
    const subgraph = await startTestSubgraph(slowModule().module);
    try {
      const get = async (path: string) => {
        const res = await fetch(`${subgraph.server.url}${path}`);
        return [path, res.status, await res.json()];
      };
      expect(await get('/health/live')).toEqual(['/health/live', 200, { status: 'ok' }]);
      for (const path of ['/health/ready', '/health', '/ready']) expect(await get(path)).toEqual([path, 200, { status: 'ok' }]);
      // Without its database the subgraph cannot serve: not ready, though alive.
      await subgraph.server.database.dataSource.destroy();
      expect(await get('/health/ready')).toEqual(['/health/ready', 503, { status: 'unavailable' }]);
      expect(await get('/health/live')).toEqual(['/health/live', 200, { status: 'ok' }]);
    } finally {
      await cleanUp(subgraph);
    }
  });
});
