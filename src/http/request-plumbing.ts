import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Errors } from './errors.js'
import { isLevelEnabled } from './request-logger.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Successful answers of this route are logged at debug level only (probes). */
    quietAccessLog?: boolean
    /** The route takes `application/x-www-form-urlencoded` bodies too (only /login and /token). */
    formBody?: boolean
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Fastify's `genReqId`: a sane incoming `x-request-id` is kept, anything else replaced. */
export function requestIdOf (request: { headers: FastifyRequest['headers'] }): string {
  const incoming = request.headers['x-request-id']
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
}

// The hooks below run on every request: they are synchronous (no promise per request) and
// read the route's options (a getter that builds an object) at most once.

/** Every response carries `x-request-id` (API.md). */
export function registerRequestIdHeader (app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })
}

/**
 * One line per request, instead of Fastify's two. Written through the app's logger with the
 * request id (the line a per-request child would write), so no child logger is made for it,
 * and nothing is built when the level is off.
 */
export function registerAccessLog (app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    // Below info nothing is written (debug is lower still): then not even the route's options
    // are read.
    if (!isLevelEnabled(request.log, 'info')) { done(); return }
    // Probes hit /healthz and /readyz every few seconds: their successes only at debug level.
    const level = reply.statusCode < 400 && request.routeOptions.config.quietAccessLog ? 'debug' : 'info'
    // request.log knows the route's own log level (e.g. /metrics logs at warn).
    if (isLevelEnabled(request.log, level)) {
      app.log[level]({
        reqId: request.id,
        method: request.method,
        // The path only: a query string is the client's and may carry anything.
        url: request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10
      }, 'request')
    }
    done()
  })
}

/** An empty JSON body reads as {}: POST /refresh and /logout are often sent that way. */
export function registerJsonParser (app: FastifyInstance): void {
  const defaultJsonParser = app.getDefaultJsonParser('error', 'error')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) return done(null, {})
    // The default parser answers through `done`; its return value carries nothing more.
    void defaultJsonParser(request, body as string, done)
  })
}

/**
 * Emails are trimmed before validation, so " a@b.co " passes the format check as "a@b.co";
 * the services then normalise it (lib/email.ts) for storage, look-ups and counters.
 */
export function registerEmailTrim (app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => {
    const body = request.body as Record<string, unknown> | undefined
    if (body && typeof body === 'object' && typeof body.email === 'string') body.email = body.email.trim()
    done()
  })
}

/**
 * JSON endpoints refuse every other content type with 415 (API.md): a form or text/plain body
 * is what a foreign page can send without a CORS preflight, so accepting one would let it act
 * through a visitor's browser. Only routes marked `formBody` also take forms. Runs before the
 * body is read; a request without a body (no content type) is left to the route.
 */
export function registerJsonOnly (app: FastifyInstance): void {
  app.addHook('preParsing', (request, _reply, payload, done) => {
    done(acceptsContentType(request) ? null : Errors.unsupportedMediaType(), payload)
  })
}

function acceptsContentType (request: FastifyRequest): boolean {
  if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS' || request.is404) return true
  const type = request.headers['content-type']
  if (type === undefined) return true
  const essence = type.split(';', 1)[0]?.trim().toLowerCase()
  if (essence === 'application/json') return true
  return essence === 'application/x-www-form-urlencoded' && request.routeOptions.config.formBody === true
}
