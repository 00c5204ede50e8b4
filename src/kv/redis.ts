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
