import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

export interface HealthRoutesOptions {
  /** Each check resolves when its dependency answers; a rejection makes the service not ready. */
  readinessChecks: Record<string, () => Promise<unknown>>
}

const Status = Type.Object({ status: Type.String(), checks: Type.Optional(Type.Record(Type.String(), Type.String())) }, { title: 'HealthStatus' })

export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, { readinessChecks }) => {
  app.get('/healthz', {
    config: { quietAccessLog: true },
    schema: { tags: ['operations'], summary: 'Liveness: the process serves', operationId: 'healthz', response: { 200: { ...Status, description: 'The process serves' } } }
  }, async () => ({ status: 'ok' }))

  app.get('/readyz', {
    config: { quietAccessLog: true },
    schema: { tags: ['operations'], summary: 'Readiness: the database (and Redis) answer', operationId: 'readyz', response: { 200: { ...Status, description: 'Every dependency answers' }, 503: { ...Status, description: 'A dependency (named in `checks`) does not answer' } } }
  }, async (request, reply) => {
    const checks: Record<string, string> = {}
    let ready = true
    await Promise.all(Object.entries(readinessChecks).map(async ([name, check]) => {
      try {
        await withTimeout(check(), 2000)
        checks[name] = 'ok'
      } catch (error) {
        ready = false
        checks[name] = 'unavailable'
        request.log.warn({ check: name, err: error }, 'readiness check failed')
      }
    }))
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks })
  })
}

function withTimeout<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms) })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
