import { LRUCache } from 'lru-cache'
import { entriesBound } from '../lib/bounded-cache.js'
import type { Db } from '../database.js'
import { type Clock, toDate } from '../lib/clock.js'
import type { UserDto } from '../users/users.schemas.js'
import { toUser } from '../users/users.mapper.js'
import { findLiveSessionWithUser } from './sessions.repository.js'

export interface LiveSession {
  sessionId: string
  user: UserDto
}

/**
 * The revocation check every authenticated request passes: is this session still live, and
 * who is its user now? Implementations may cache, but every revocation must go through
 * `forgetSession` / `forgetUser` *after* the database is updated, so a cached "yes" never
 * outlives the revocation on this instance. A shared implementation (Redis pub/sub) carries
 * the same calls to every instance.
 */
export interface SessionLiveness {
  check: (sessionId: string) => Promise<LiveSession | undefined>
  forgetSession: (sessionId: string) => Promise<void>
  forgetUser: (userId: string) => Promise<void>
}

interface Entry { userId: string, user: UserDto, expiresAt: number }

/** The in-process implementation, with the hooks a shared invalidation channel needs. */
export interface LocalSessionLiveness extends SessionLiveness {
  forgetLocally: (kind: 'session' | 'user', id: string) => void
  /** Drops every cached answer (e.g. after invalidations may have been missed). */
  forgetAllLocally: () => void
  /** The database's answer, bypassing (and not filling) the cache. */
  checkInDatabase: (sessionId: string) => Promise<LiveSession | undefined>
}

/**
 * In-process cache with the database as the truth. `ttlMs = 0` disables caching.
 * `externalChangeCounter` (SQLite) changes when another process writes the database, e.g. the
 * operator CLI deactivating a user: the whole cache is then dropped before it is trusted.
 */
export function createSessionLiveness (deps: { db: Db, clock: Clock, ttlMs: number, max?: number, externalChangeCounter?: (() => number) | undefined }): LocalSessionLiveness {
  const { db, clock, ttlMs, externalChangeCounter } = deps
  let seenExternalChanges = externalChangeCounter?.()
  // userId → its cached session ids, so revoking a user drops all of them without a scan.
  const byUser = new Map<string, Set<string>>()
  const cache = ttlMs > 0
    ? new LRUCache<string, Entry>({
      ...entriesBound(deps.max ?? 100_000),
      ttl: ttlMs,
      dispose: (entry, sessionId) => {
        const sessions = byUser.get(entry.userId)
        sessions?.delete(sessionId)
        if (sessions?.size === 0) byUser.delete(entry.userId)
      }
    })
    : undefined

  // Bumped by every invalidation. A check whose database read overlapped an invalidation does
  // not cache its answer: the read may predate the revocation, and caching it would keep a
  // stale "yes" alive after the revocation has been processed.
  let invalidations = 0

  function forgetLocally (kind: 'session' | 'user', id: string): void {
    invalidations++
    if (!cache) return
    if (kind === 'session') {
      cache.delete(id)
      return
    }
    for (const sessionId of [...byUser.get(id) ?? []]) cache.delete(sessionId)
  }

  function forgetAllLocally (): void {
    invalidations++
    cache?.clear()
    byUser.clear()
  }

  async function readDatabase (sessionId: string): Promise<{ user: UserDto, expiresAt: number } | undefined> {
    const row = await findLiveSessionWithUser(db, sessionId)
    if (!row) return undefined
    const expiresAt = toDate(row.expiresAt).getTime()
    if (expiresAt <= clock.now().getTime()) return undefined
    return { user: toUser(row.user), expiresAt }
  }

  return {
    async check (sessionId) {
      const now = clock.now().getTime()
      if (externalChangeCounter && cache) {
        const changes = externalChangeCounter()
        if (changes !== seenExternalChanges) {
          seenExternalChanges = changes
          forgetAllLocally()
        }
      }
      const cached = cache?.get(sessionId)
      if (cached) return cached.expiresAt > now ? { sessionId, user: cached.user } : undefined
      const seenInvalidations = invalidations
      const found = await readDatabase(sessionId)
      if (!found) return undefined
      const { user, expiresAt } = found
      if (cache && invalidations === seenInvalidations) {
        cache.set(sessionId, { userId: user.id, user, expiresAt })
        let sessions = byUser.get(user.id)
        if (!sessions) byUser.set(user.id, sessions = new Set())
        sessions.add(sessionId)
      }
      return { sessionId, user }
    },
    async forgetSession (sessionId) { forgetLocally('session', sessionId) },
    async forgetUser (userId) { forgetLocally('user', userId) },
    forgetLocally,
    forgetAllLocally,
    async checkInDatabase (sessionId) {
      const found = await readDatabase(sessionId)
      return found ? { sessionId, user: found.user } : undefined
    }
  }
}
