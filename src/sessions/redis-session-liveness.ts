import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import type { LiveSession, LocalSessionLiveness, SessionLiveness } from './session-liveness.js'

export interface RedisSessionLivenessDeps {
  /** The in-process liveness whose cache this keeps in step with every other instance. */
  local: LocalSessionLiveness
  /** The shared command connection (PUBLISH). */
  publisher: Redis
  /** A dedicated connection: once subscribed, a Redis connection can do nothing else. */
  subscriber: Redis
  /** Pub/sub channel every instance of one deployment shares. */
  channel: string
  log: FastifyBaseLogger
  /** How long a revocation waits for its own broadcast to come back before answering anyway. */
  echoTimeoutMs?: number
}

export interface RedisSessionLiveness extends SessionLiveness {
  /** True while the subscription is up, i.e. while the cache may be trusted. */
  readonly trusted: () => boolean
  close: () => Promise<void>
}

interface Invalidation { kind: 'session' | 'user', id: string, nonce: string }

function parseInvalidation (message: string): Invalidation | undefined {
  try {
    const value = JSON.parse(message) as Partial<Invalidation>
    if ((value.kind === 'session' || value.kind === 'user') && typeof value.id === 'string' && typeof value.nonce === 'string') {
      return value as Invalidation
    }
  } catch {}
  return undefined
}

/**
 * Session liveness shared by several instances through Redis pub/sub: every revocation is
 * applied here, then broadcast, and every instance drops the revoked entries from its cache.
 *
 * The cache is only as good as the subscription: a revocation published while this instance
 * was not subscribed is lost to it. So the cache is trusted only while subscribed; from the
 * moment the subscriber connection drops, every check goes to the database, and once it has
 * resubscribed the whole cache is dropped (it may hold answers a missed revocation voided)
 * before it is trusted again.
 */
export function createRedisSessionLiveness (deps: RedisSessionLivenessDeps): RedisSessionLiveness {
  const { local, publisher, subscriber, channel, log } = deps
  const echoTimeoutMs = deps.echoTimeoutMs ?? 1000
  let subscribed = false
  let closed = false
  // Our own broadcasts, by nonce, waiting to come back through the subscription.
  const awaitingEcho = new Map<string, () => void>()

  function distrust (): void {
    if (subscribed) log.warn('revocation channel lost: session checks go to the database until it is back')
    subscribed = false
  }

  async function subscribe (): Promise<void> {
    try {
      await subscriber.subscribe(channel)
    } catch (error) {
      // The connection dropped again; the next 'ready' retries.
      log.warn({ err: error }, 'could not subscribe to the revocation channel')
      return
    }
    // Revocations published while we were away were missed: start from an empty cache.
    local.forgetAllLocally()
    subscribed = true
    log.info('revocation channel subscribed: session cache enabled')
  }

  subscriber.on('message', (receivedChannel: string, message: string) => {
    if (receivedChannel !== channel) return
    const invalidation = parseInvalidation(message)
    if (!invalidation) return
    local.forgetLocally(invalidation.kind, invalidation.id)
    const resolve = awaitingEcho.get(invalidation.nonce)
    if (resolve) resolve()
  })
  subscriber.on('ready', () => { if (!closed) subscribe().catch(() => {}) })
  subscriber.on('close', distrust)
  subscriber.on('end', distrust)
  subscriber.on('reconnecting', distrust)
  subscriber.on('error', (error: Error) => log.warn({ err: error }, 'revocation subscriber error'))
  if (subscriber.status === 'ready') subscribe().catch(() => {})

  /**
   * Applies the invalidation here, then broadcasts it and waits (boundedly) until it has come
   * back through our own subscription: Redis delivers a message to every subscriber at once, so
   * by then the other instances have it too, and the caller's "revoked" answer holds everywhere.
   */
  async function broadcast (kind: 'session' | 'user', id: string): Promise<void> {
    local.forgetLocally(kind, id)
    const nonce = randomUUID()
    let timer: NodeJS.Timeout | undefined
    const echoed = new Promise<void>((resolve) => {
      awaitingEcho.set(nonce, resolve)
      timer = setTimeout(resolve, echoTimeoutMs)
    })
    try {
      await publisher.publish(channel, JSON.stringify({ kind, id, nonce }))
      if (subscribed) await echoed
    } catch (error) {
      // Redis is unreachable from here. The database already holds the revocation; instances
      // that lost Redis too check the database only. Cached answers elsewhere expire within
      // the session cache TTL at worst.
      log.error({ err: error, kind }, 'revocation broadcast failed')
    } finally {
      clearTimeout(timer)
      awaitingEcho.delete(nonce)
    }
  }

  return {
    async check (sessionId: string): Promise<LiveSession | undefined> {
      return subscribed ? local.check(sessionId) : local.checkInDatabase(sessionId)
    },
    forgetSession: (sessionId) => broadcast('session', sessionId),
    forgetUser: (userId) => broadcast('user', userId),
    trusted: () => subscribed,
    async close () {
      closed = true
      subscribed = false
      await subscriber.quit().catch(() => subscriber.disconnect())
    }
  }
}

/**
 * For a process that changes users but serves no requests (the operator CLI): its revocations
 * are written to the database, then published on the channel the servers listen to, so their
 * caches drop the affected sessions at once.
 */
export function createRevocationPublisher (local: SessionLiveness, publisher: Redis, channel: string, onError: (error: unknown) => void): SessionLiveness {
  async function publish (kind: 'session' | 'user', id: string): Promise<void> {
    // The database change stands either way. Servers whose subscription is down do not trust
    // their caches, so a lost message matters only for a server that is subscribed while
    // this process cannot reach Redis: reported, not fatal.
    await publisher.publish(channel, JSON.stringify({ kind, id, nonce: randomUUID() })).catch(onError)
  }
  return {
    check: (sessionId) => local.check(sessionId),
    async forgetSession (sessionId) {
      await local.forgetSession(sessionId)
      await publish('session', sessionId)
    },
    async forgetUser (userId) {
      await local.forgetUser(userId)
      await publish('user', userId)
    }
  }
}

/** The channel of a deployment's revocation broadcasts. */
export function revocationChannel (redisKeyPrefix: string): string {
  return `${redisKeyPrefix}revocations`
}
