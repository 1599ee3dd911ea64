import { logger } from '@portal/kit';

/**
 * On SIGTERM or SIGINT: stops (draining requests in flight, see RunningServer.close) and exits 0;
 * exits 1 if stopping fails, or if it has not finished `drainMs` plus 5 s later. A second signal
 * while stopping changes nothing.
 */
export function stopOnSignals(name: string, close: () => Promise<void>, drainMs: number): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: ${name} stopping (requests in flight get up to ${drainMs} ms)...`);
    setTimeout(() => {
      logger.error(`${name}: not stopped ${drainMs + 5_000} ms after ${signal}; exiting anyway`);
      process.exit(1);
    }, drainMs + 5_000).unref();
    try {
      await close();
      process.exit(0);
    } catch (e) {
      logger.error(`${name}: stopping failed (${(e as Error)?.name ?? 'Error'})`);
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
