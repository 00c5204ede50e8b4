import { Redis } from 'ioredis'

/**
 * One shared Redis connection for revocation broadcasts, rate-limit counters and caches.
 * Commands fail fast while Redis is down (no unbounded offline queue), so callers can
 * choose their own fallback instead of hanging.
 */
export function createRedis (url: string): Redis {
  return new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000)
  })
}

/**
 * Readiness of a Redis connection: connected, and working in the database the URL names.
 * A PING alone is not enough: when SELECT fails (`redis://…/99` on a server with 16
 * databases) ioredis reports an error, stays connected and carries on in database 0, so
 * counters and revocations would land where no other instance looks. CLIENT INFO (Redis 6.2+)
 * tells which database the connection really uses; older servers get the PING.
 */
export async function checkRedis (redis: Redis): Promise<void> {
  if (redis.status !== 'ready') throw new Error(`redis is ${redis.status}`)
  const expected = redis.options.db ?? 0
  let info: string
  try {
    info = String(await redis.call('CLIENT', 'INFO'))
  } catch (error) {
    if (/unknown (sub)?command|wrong number of arguments/i.test(error instanceof Error ? error.message : '')) {
      await redis.ping()
      return
    }
    throw error
  }
  const selected = Number(/(?:^|\s)db=(\d+)/.exec(info)?.[1])
  if (selected !== expected) throw new Error(`REDIS_URL: connected to database ${selected}, not ${expected} (SELECT ${expected} failed)`)
}
