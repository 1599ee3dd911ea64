/**
 * `npm start` on two cores (STACK_THREADS=2): the five subgraphs run in a
 * worker thread, the gateway in the main one. One process serves everything
 * on one core otherwise, and the gateway's work per PortalView is a quarter
 * to a third of the whole. The thread reads the same settings (`process.env` is
 * copied into it) and shares DATA_DIR's keys and request-id secret, so
 * nothing changes for the services: they still talk over HTTP on the same
 * ports. Signals reach the main thread only, which stops the gateway, then
 * asks the thread to stop the subgraphs (identity last).
 */
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { logger } from '@portal/kit';
import { fhirRoutes, readGatewayConfig, startGateway, type SubgraphName } from '@portal/gateway';
import { webAppRoutes } from './webApp';
import { stackGatewayConfig, startSubgraphs, type StackOptions } from './stack';

type SubgraphOptions = Pick<StackOptions, 'ephemeralPorts' | 'host' | 'seedDemo' | 'databasePrefix'>;

type FromThread = { ready: Record<SubgraphName, string> } | { failed: string } | { closed: true };

export interface SubgraphThread {
  urls: Record<SubgraphName, string>;
  /** Stops the subgraphs (identity last), then the thread. */
  close(): Promise<void>;
}

const MARK = 'portal-stack-subgraphs';

/** Starts the subgraphs in a worker thread, with the settings of the environment; resolves once they all listen. */
export function startSubgraphThread(options: SubgraphOptions): Promise<SubgraphThread> {
  const file = path.join(__dirname, `stackThread${path.extname(__filename)}`);
  // This thread's environment as it is now (a test's changes too), not the process's at start.
  const init = { workerData: { [MARK]: options }, env: { ...process.env } };
  // Under tsx (npm start) a worker does not inherit its loader: the thread registers it before loading this file.
  const worker = file.endsWith('.ts')
    ? new Worker(`require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(file)});`, { ...init, eval: true })
    : new Worker(file, init);
  return new Promise((resolve, reject) => {
    let state: 'starting' | 'running' | 'closing' | 'exited' = 'starting';
    let closed: (() => void) | undefined;
    worker.once('error', (e) => {
      if (state === 'starting') reject(e);
    });
    worker.once('exit', (code) => {
      const was = state;
      state = 'exited';
      closed?.();
      if (was === 'starting') reject(new Error(`the subgraphs' thread stopped (exit ${code}) before it was ready`));
      // As a crash of the one-thread stack would: the process ends, and whatever runs it restarts it.
      if (was === 'running') {
        logger.error(`[stack] the subgraphs' thread stopped (exit ${code}); stopping`);
        process.exit(1);
      }
    });
    worker.on('message', (m: FromThread) => {
      if ('failed' in m) {
        reject(new Error(m.failed));
        void worker.terminate();
      }
      else if ('closed' in m) closed?.();
      else {
        state = 'running';
        resolve({
          urls: m.ready,
          close: async () => {
            if (state === 'exited') return;
            state = 'closing';
            await new Promise<void>((done) => {
              closed = done;
              worker.postMessage('close');
            });
            await worker.terminate();
          },
        });
      }
    });
  });
}

/**
 * STACK_THREADS=2: the subgraphs in a worker thread (stackThread.ts), the
 * gateway here. Each thread would serve its own metrics on METRICS_PORT, so
 * that setting is refused; METRICS_TOKEN's per-port scrape works as before.
 */
export async function startThreadedStack(options: StackOptions): Promise<{ gatewayUrl: string; subgraphUrls: Record<string, string>; close(): Promise<void> }> {
  if (options.config.metrics?.port !== undefined) throw new Error('STACK_THREADS=2 cannot serve METRICS_PORT (each thread has its own metrics): set METRICS_TOKEN and scrape each service\'s port.');
  const thread = await startSubgraphThread({ host: options.host, seedDemo: options.seedDemo, ephemeralPorts: options.ephemeralPorts, databasePrefix: options.databasePrefix });
  try {
    const config = { ...options.config, identityUrl: thread.urls.identity };
    // The record download and the patient web app, as in the one-thread stack.
    const app = webAppRoutes(options.webAppDir);
    const gateway = await startGateway({ config: stackGatewayConfig(options, config, thread.urls), routes: (deps) => ({ ...fhirRoutes(deps), ...app }) });
    return {
      gatewayUrl: gateway.url,
      subgraphUrls: thread.urls,
      close: async () => {
        await gateway.close();
        await thread.close();
      },
    };
  } catch (e) {
    await thread.close().catch(() => undefined);
    throw e;
  }
}

/** The thread's side: starts the subgraphs, says where they are, stops them when told. */
async function serveSubgraphs(options: SubgraphOptions): Promise<void> {
  try {
    const { subgraphs, close } = await startSubgraphs({ ...options, config: readGatewayConfig().portal });
    const urls = Object.fromEntries(Object.values(subgraphs).map((s) => [s.name, s.url])) as Record<SubgraphName, string>;
    parentPort!.on('message', (m) => {
      if (m === 'close') void close().finally(() => parentPort!.postMessage({ closed: true } satisfies FromThread));
    });
    parentPort!.postMessage({ ready: urls } satisfies FromThread);
  } catch (e) {
    parentPort!.postMessage({ failed: (e as Error)?.message ?? String(e) } satisfies FromThread);
  }
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[MARK]) void serveSubgraphs((workerData as Record<string, SubgraphOptions>)[MARK]);
