import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

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

/** Incremented by the rate limiter each time it refuses a request (429). */
export const rateLimitHits = new Counter({
  name: 'authd_rate_limit_hits_total',
  help: 'Requests refused by a rate limit, by limit name',
  labelNames: ['limit'] as const,
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

type Observer = ReturnType<typeof httpRequestDuration.labels>

/**
 * Times every request into `http_request_duration_seconds`. Labels use the route *pattern*
 * (`/api/v1/auth/sessions/:id`), never the raw URL: ids and query strings would make the
 * series unbounded. The per-label child is cached, so the hot path costs a map look-up.
 */
/** Observes every response's latency by route and status (a global hook: register at the root). */
export function observeHttpMetrics (app: FastifyInstance): void {
  const observers = new Map<string, Observer>()
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    const status = reply.statusCode
    const key = `${request.method} ${status} ${route}`
    let observer = observers.get(key)
    if (!observer) {
      observer = httpRequestDuration.labels(request.method, route, String(status))
      observers.set(key, observer)
    }
    observer.observe(reply.elapsedTime / 1000)
  })
}

/** GET /metrics: the Prometheus text of every metric above. */
export const metricsRoutes: FastifyPluginAsync = async (app) => {
  app.get('/metrics', {
    logLevel: 'warn',
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics',
      operationId: 'metrics',
      produces: ['text/plain'],
      response: { 200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } } }
    }
  }, async (_request, reply) => {
    reply.header('content-type', metricsRegistry.contentType)
    reply.header('cache-control', 'no-store')
    return metricsRegistry.metrics()
  })
}
