import type { Redis } from 'ioredis'
import type { CounterHit, KeyValueStore } from './kv.js'

// INCR and PEXPIRE in one script, so a counter can never be left without an expiry (which
// would lock its key out for good) if the connection drops between the two commands.
const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
`

/** Store shared by every instance. Keys are namespaced by `prefix`. */
export function createRedisKv (redis: Redis, prefix: string): KeyValueStore {
  const k = (key: string): string => prefix + key
  // While the connection is down, fail at once instead of queueing behind reconnection
  // attempts: the caller's fallback answers in microseconds, not seconds per request.
  const ready = (): void => {
    if (redis.status !== 'ready') throw new Error(`redis is ${redis.status}`)
  }
  return {
    async get (key) { ready(); return (await redis.get(k(key))) ?? undefined },
    async set (key, value, ttlMs) { ready(); await redis.set(k(key), value, 'PX', Math.max(1, Math.ceil(ttlMs))) },
    async delete (key) { ready(); await redis.del(k(key)) },
    async increment (key, windowMs) {
      ready()
      const [count, ttlMs] = await redis.eval(INCREMENT, 1, k(key), String(Math.max(1, Math.ceil(windowMs)))) as [number, number]
      return { count: Number(count), ttlMs: Number(ttlMs) }
    },
    async peek (key): Promise<CounterHit> {
      ready()
      const [value, ttl] = await redis.multi().get(k(key)).pttl(k(key)).exec() ?? []
      const count = Number(value?.[1] ?? 0)
      return { count: Number.isFinite(count) ? count : 0, ttlMs: Math.max(0, Number(ttl?.[1] ?? 0)) }
    },
    // The connection belongs to the app, which closes it.
    async close () {}
  }
}
