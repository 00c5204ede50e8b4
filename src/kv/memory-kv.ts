import type { Clock } from '../lib/clock.js'
import type { CounterHit, KeyValueStore } from './kv.js'

interface Entry { value: string, expiresAt: number }

/**
 * In-process store for a single instance. Expired entries are dropped when read and by a
 * periodic sweep, so keys an attacker sprays (one per fake email) do not pile up forever.
 */
export function createMemoryKv (options: { clock: Clock, sweepIntervalMs?: number }): KeyValueStore {
  const { clock } = options
  const entries = new Map<string, Entry>()

  function live (key: string): Entry | undefined {
    const entry = entries.get(key)
    if (entry && entry.expiresAt <= clock.now().getTime()) {
      entries.delete(key)
      return undefined
    }
    return entry
  }

  const sweep = setInterval(() => {
    const now = clock.now().getTime()
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key)
  }, options.sweepIntervalMs ?? 60_000)
  sweep.unref()

  function counter (entry: Entry | undefined): CounterHit {
    if (!entry) return { count: 0, ttlMs: 0 }
    return { count: Number(entry.value), ttlMs: Math.max(0, entry.expiresAt - clock.now().getTime()) }
  }

  return {
    async get (key) { return live(key)?.value },
    async set (key, value, ttlMs) { entries.set(key, { value, expiresAt: clock.now().getTime() + ttlMs }) },
    async delete (key) { entries.delete(key) },
    async increment (key, windowMs) {
      // Synchronous read-modify-write: no await between them, so no lost update.
      const entry = live(key)
      if (!entry) {
        const fresh = { value: '1', expiresAt: clock.now().getTime() + windowMs }
        entries.set(key, fresh)
        return counter(fresh)
      }
      entry.value = String(Number(entry.value) + 1)
      return counter(entry)
    },
    async peek (key) { return counter(live(key)) },
    async close () {
      clearInterval(sweep)
      entries.clear()
    }
  }
}
