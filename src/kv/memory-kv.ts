import { LRUCache } from 'lru-cache'
import { entriesBound } from '../lib/bounded-cache.js'
import type { Clock } from '../lib/clock.js'
import type { CounterHit, KeyValueStore } from './kv.js'

interface Entry { value: string, expiresAt: number }

export interface MemoryKeyValueStore extends KeyValueStore {
  /** Keys held now: under-limit ones and lockouts. */
  size: () => { fresh: number, lockedOut: number }
}

/**
 * In-process store for a single instance, bounded: a spray of fresh keys (one per fake email
 * or client address) cannot grow the heap past `maxKeys` entries per segment.
 *
 * Two segments, each a least-recently-used cache of `maxKeys`:
 * - `fresh` holds every new key and every counter still under its limit. A spray of new keys
 *   evicts only other under-limit keys, which costs their owners at most a restart of a
 *   window they had not used up.
 * - `lockedOut` holds counters that went past their limit. A key there is never evicted to
 *   make room for a fresh one; only another lockout can push it out, and each lockout costs
 *   an attacker `limit + 1` requests within one window, while the oldest ones also expire with
 *   their windows. So evicting someone's lockout needs `maxKeys × (limit + 1)` requests within
 *   the window (600,000 at the defaults), which the per-IP limits stand in front of.
 * Expired entries are dropped when read and by a periodic sweep.
 */
export function createMemoryKv (options: { clock: Clock, sweepIntervalMs?: number, maxKeys?: number }): MemoryKeyValueStore {
  const { clock } = options
  const max = options.maxKeys ?? 100_000
  const fresh = new LRUCache<string, Entry>(entriesBound(max))
  const lockedOut = new LRUCache<string, Entry>(entriesBound(max))

  function live (segment: LRUCache<string, Entry>, key: string): Entry | undefined {
    const entry = segment.get(key)
    if (entry && entry.expiresAt <= clock.now().getTime()) {
      segment.delete(key)
      return undefined
    }
    return entry
  }

  const sweep = setInterval(() => {
    const now = clock.now().getTime()
    for (const segment of [fresh, lockedOut]) {
      for (const [key, entry] of segment.entries()) if (entry.expiresAt <= now) segment.delete(key)
    }
  }, options.sweepIntervalMs ?? 60_000)
  sweep.unref()

  function counter (entry: Entry | undefined): CounterHit {
    if (!entry) return { count: 0, ttlMs: 0 }
    return { count: Number(entry.value), ttlMs: Math.max(0, entry.expiresAt - clock.now().getTime()) }
  }

  function peekLive (key: string): Entry | undefined {
    const entry = lockedOut.peek(key) ?? fresh.peek(key)
    return entry && entry.expiresAt > clock.now().getTime() ? entry : undefined
  }

  return {
    async get (key) { return (live(lockedOut, key) ?? live(fresh, key))?.value },
    async set (key, value, ttlMs) {
      lockedOut.delete(key)
      fresh.set(key, { value, expiresAt: clock.now().getTime() + ttlMs })
    },
    async delete (key) {
      fresh.delete(key)
      lockedOut.delete(key)
    },
    async increment (key, windowMs, limit) {
      // Synchronous read-modify-write: no await between them, so no lost update.
      const locked = live(lockedOut, key)
      if (locked) {
        locked.value = String(Number(locked.value) + 1)
        return counter(locked)
      }
      const entry = live(fresh, key)
      if (!entry) {
        const created = { value: '1', expiresAt: clock.now().getTime() + windowMs }
        fresh.set(key, created)
        return counter(created)
      }
      entry.value = String(Number(entry.value) + 1)
      if (limit !== undefined && Number(entry.value) > limit) {
        fresh.delete(key)
        lockedOut.set(key, entry)
      }
      return counter(entry)
    },
    async peek (key) { return counter(peekLive(key)) },
    size: () => ({ fresh: fresh.size, lockedOut: lockedOut.size }),
    async close () {
      clearInterval(sweep)
      fresh.clear()
      lockedOut.clear()
    }
  }
}
