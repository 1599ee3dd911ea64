import IORedis, { type Redis } from 'ioredis';
import { logger } from '../logging';

export type { Redis };

/** How long one Redis command may wait for its answer, offline or not. */
export const REDIS_COMMAND_TIMEOUT_MS = 1_000;

/**
 * A Redis client that fails fast: a command waits for one reconnection at
 * most and never longer than REDIS_COMMAND_TIMEOUT_MS, so a Redis outage
 * answers SERVICE_UNAVAILABLE instead of hanging every request. A connection
 * that stops answering is dropped (`socketTimeout`) rather than reused: the
 * answers of commands that timed out on it could otherwise be taken for the
 * answers of later ones. Reconnection is tried at least every second, so
 * service resumes by itself soon after Redis is back.
 */
export function openRedis(url: string, commandTimeoutMs = REDIS_COMMAND_TIMEOUT_MS): Redis {
  const redis = new IORedis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: commandTimeoutMs,
    socketTimeout: commandTimeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
    lazyConnect: false,
  });
  let reported = false;
  // Without a listener ioredis prints every failed reconnect; once per outage is enough, with the class only.
  redis.on('error', (e: Error) => {
    if (reported) return;
    reported = true;
    logger.error(`[redis] ${e.name}: no connection; session checks answer SERVICE_UNAVAILABLE until it is back`);
  });
  redis.on('ready', () => {
    reported = false;
  });
  return redis;
}

/** Closes politely, or drops the socket when Redis is not there to answer QUIT. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
  else redis.disconnect();
}
