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
  return {
    async get (key) { return (await redis.get(k(key))) ?? undefined },
    async set (key, value, ttlMs) { await redis.set(k(key), value, 'PX', Math.max(1, Math.ceil(ttlMs))) },
    async delete (key) { await redis.del(k(key)) },
    async increment (key, windowMs) {
      const [count, ttlMs] = await redis.eval(INCREMENT, 1, k(key), String(Math.max(1, Math.ceil(windowMs)))) as [number, number]
      return { count: Number(count), ttlMs: Number(ttlMs) }
    },
    async peek (key): Promise<CounterHit> {
      const [value, ttl] = await redis.multi().get(k(key)).pttl(k(key)).exec() ?? []
      const count = Number(value?.[1] ?? 0)
      return { count: Number.isFinite(count) ? count : 0, ttlMs: Math.max(0, Number(ttl?.[1] ?? 0)) }
    },
    // The connection belongs to the app, which closes it.
    async close () {}
  }
}
