import type { FastifyInstance, FastifyPluginAsync, onResponseHookHandler } from 'fastify'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { bearerToken } from '../http/bearer.js'
import { Errors } from '../http/errors.js'
import { errorResponses } from '../http/openapi-conventions.js'
import { constantTimeEqual, sha256 } from '../lib/crypto.js'

/**
 * The service's Prometheus metrics. One registry per process: counters are module-level so
 * any feature can count without being handed an object (`rateLimitHits.inc(...)`), and every
 * app built in the process (tests build many) adds to the same series.
 */
export const metricsRegistry = new Registry()

collectDefaultMetrics({ register: metricsRegistry })

const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP requests by method, route pattern and status: count, and latency in seconds',
  labelNames: ['method', 'route', 'status_code'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [metricsRegistry]
})

/** Sign-in attempts (`/signin`, `/login`, `/token` password grant) by outcome. */
export const signinAttempts = new Counter({
  name: 'authd_signin_attempts_total',
  help: 'Sign-in attempts by outcome: success, invalid_credentials, inactive_user',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry]
})

/** The second step of a two-step sign-in (/mfa/verify) by outcome. */
export const mfaVerifications = new Counter({
  name: 'authd_mfa_verifications_total',
  help: 'Second-step verifications by outcome: success_totp, success_recovery_code, invalid_code, invalid_token, inactive_user, rate_limited',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry]
})

/** Passkey sign-ins by outcome. */
export const passkeySignins = new Counter({
  name: 'authd_passkey_signins_total',
  help: 'Passkey sign-ins by outcome: success, invalid_passkey, inactive_user, rate_limited',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry]
})

/** Incremented by the rate limiter each time it refuses a request (429). */
export const rateLimitHits = new Counter({
  name: 'authd_rate_limit_hits_total',
  help: 'Requests refused by a rate limit, by limit name',
  labelNames: ['limit'] as const,
  registers: [metricsRegistry]
})

/** Each end of the password-strength worker (src/passwords/strength-estimator.ts): none is planned. */
export const strengthWorkerExits = new Counter({
  name: 'authd_password_strength_worker_exits_total',
  help: 'Unplanned ends of the password-strength worker thread (each is replaced at once; more than a few is a bug)',
  registers: [metricsRegistry]
})

/** BREACHED_PASSWORDS=hibp: each range API look-up, by outcome (breached, clean, error). */
export const breachedPasswordChecks = new Counter({
  name: 'authd_breached_password_checks_total',
  help: 'Breached-password look-ups by outcome: breached, clean, error (failed open)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry]
})

type DepthReader = () => number | Promise<number>
const outboxDepthReaders = new Set<DepthReader>()

new Gauge({ // eslint-disable-line no-new -- registered in metricsRegistry, read through it
  name: 'authd_email_outbox_depth',
  help: 'Emails waiting in the outbox to be sent',
  registers: [metricsRegistry],
  async collect () {
    let depth = 0
    for (const read of outboxDepthReaders) depth += await read()
    this.set(depth)
  }
})

/**
 * Lets the email outbox report how many messages wait, read when /metrics is scraped (never on
 * the request path). Returns the function that unregisters it (call it when the app closes).
 */
export function registerOutboxDepth (read: DepthReader): () => void {
  outboxDepthReaders.add(read)
  return () => { outboxDepthReaders.delete(read) }
}

/** What the running app reports about its dependencies, read at scrape time only. */
export interface DependencyState {
  databasePool?: () => { total: number, idle: number, waiting: number }
  /** 1 while the Redis connection is ready, else 0. */
  redisUp?: () => number
  hashQueue?: () => { running: number, waiting: number }
}
const dependencyStates = new Set<DependencyState>()

new Gauge({ // eslint-disable-line no-new -- registered in metricsRegistry, read through it
  name: 'authd_db_pool_connections',
  help: 'PostgreSQL pool: connections open (total), idle ones, and queries waiting for one',
  labelNames: ['state'] as const,
  registers: [metricsRegistry],
  collect () {
    const sum = { total: 0, idle: 0, waiting: 0 }
    for (const state of dependencyStates) {
      const pool = state.databasePool?.()
      if (pool) for (const key of ['total', 'idle', 'waiting'] as const) sum[key] += pool[key]
    }
    for (const [key, value] of Object.entries(sum)) this.set({ state: key }, value)
  }
})

new Gauge({ // eslint-disable-line no-new -- registered in metricsRegistry, read through it
  name: 'authd_redis_up',
  help: '1 while the Redis connection is ready, 0 while it is down (absent without REDIS_URL)',
  registers: [metricsRegistry],
  collect () {
    const readers = [...dependencyStates].flatMap((state) => state.redisUp ? [state.redisUp] : [])
    if (readers.length === 0) this.reset()
    else this.set(Math.min(...readers.map((read) => read())))
  }
})

new Gauge({ // eslint-disable-line no-new -- registered in metricsRegistry, read through it
  name: 'authd_password_hash_queue',
  help: 'Password hashes running on a core, and waiting for one (past PASSWORD_HASH_QUEUE_MAX: 503)',
  labelNames: ['state'] as const,
  registers: [metricsRegistry],
  collect () {
    const sum = { running: 0, waiting: 0 }
    for (const state of dependencyStates) {
      const queue = state.hashQueue?.()
      if (queue) { sum.running += queue.running; sum.waiting += queue.waiting }
    }
    this.set({ state: 'running' }, sum.running)
    this.set({ state: 'waiting' }, sum.waiting)
  }
})

/** Lets an app report its dependencies' state; returns the function that unregisters it. */
export function registerDependencyState (state: DependencyState): () => void {
  dependencyStates.add(state)
  return () => { dependencyStates.delete(state) }
}

type Observer = ReturnType<typeof httpRequestDuration.labels>

/** A route's histogram children by method, then status code: bound once, then reused. */
type BoundSeries = Record<string, Record<number, Observer>>

/** The histogram child for this route, method and status, bound on first use. */
function observerFor (metrics: { route: string, series: BoundSeries }, method: string, status: number): Observer {
  const byStatus = metrics.series[method] ??= {}
  byStatus[status] ??= httpRequestDuration.labels(method, metrics.route, String(status))
  return byStatus[status]
}

const unmatched = { route: 'unmatched', series: {} as BoundSeries }

/** One observation; `httpMetrics` is the route's (undefined for requests that matched no route). */
function recordHttpRequest (httpMetrics: { route: string, series: BoundSeries } | undefined, method: string, status: number, elapsedMs: number): void {
  observerFor(httpMetrics ?? unmatched, method, status).observe(elapsedMs / 1000)
}

/**
 * Times every request into `http_request_duration_seconds`. Labels use the route *pattern*
 * (`/api/v1/auth/sessions/:id`), never the raw URL: ids and query strings would make the
 * series unbounded. Each route gets an `onResponse` hook of its own that holds its label sets,
 * bound when first used: a request costs a property look-up and the observation, with no
 * key string, no map, and no read of `request.routeOptions` (a getter that builds an object
 * on each read). Global hooks: register at the root, before the routes.
 */
export function observeHttpMetrics (app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const metrics = { route: route.url, series: {} as BoundSeries }
    const observe: onResponseHookHandler = (request, reply, done) => {
      recordHttpRequest(metrics, request.method, reply.statusCode, reply.elapsedTime)
      done()
    }
    route.onResponse = route.onResponse === undefined ? [observe] : [observe, ...[route.onResponse].flat()]
  })
  // Requests that matched no route have none of those hooks.
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) recordHttpRequest(undefined, request.method, reply.statusCode, reply.elapsedTime)
    done()
  })
}

export interface MetricsRoutesOptions {
  /** METRICS_TOKEN: when set, the scraper must send `Authorization: Bearer <token>` (any case of the scheme). */
  token?: string | undefined
}

/** GET /metrics: the Prometheus text of every metric above. */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, options) => {
  const expected = options.token
  app.get('/metrics', {
    logLevel: 'warn',
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics',
      operationId: 'metrics',
      produces: ['text/plain'],
      response: {
        200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } },
        // Only when METRICS_TOKEN is set: the scraper sends `Authorization: Bearer <token>`.
        ...errorResponses('not_authenticated', 'invalid_token')
      }
    }
  }, async (request, reply) => {
    // METRICS_TOKEN: the series name routes, limits and load, which is no one else's business.
    // Compared in constant time, so the token cannot be guessed byte by byte from timings.
    if (expected !== undefined) {
      const given = request.headers.authorization
      if (given === undefined) throw Errors.notAuthenticated()
      // The scheme read as the API reads it (case-insensitive, RFC 7235); the token hashed
      // first, so that not even its length shows in the timing.
      if (!constantTimeEqual(sha256(bearerToken(given)), sha256(expected))) throw Errors.invalidToken()
    }
    reply.header('content-type', metricsRegistry.contentType)
    reply.header('cache-control', 'no-store')
    return metricsRegistry.metrics()
  })
}
