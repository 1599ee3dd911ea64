import IORedis, { type Redis } from 'ioredis';

export type { Redis };

/**
 * A Redis client that fails fast: a request waits for one retry at most, so a
 * Redis outage answers SERVICE_UNAVAILABLE instead of hanging every request.
 */
export function openRedis(url: string): Redis {
  const redis = new IORedis(url, { maxRetriesPerRequest: 1, connectTimeout: 2_000, lazyConnect: false });
  let reported = false;
  // Without a listener ioredis prints every failed reconnect; once per outage is enough, with the class only.
  redis.on('error', (e: Error) => {
    if (reported) return;
    reported = true;
    console.error(`[redis] ${e.name}: no connection; session checks answer SERVICE_UNAVAILABLE until it is back`);
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
