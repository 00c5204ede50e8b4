import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify'
import { describeError, isDatabaseUnavailable } from '../lib/outage.js'
import { AppError, asOAuthInvalidRequest, Errors, NO_STORE_HEADERS, OAuthError, type FieldError } from './errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route answers RFC 6749 §5.2's error shape (the token endpoint): input refused before
     * its handler runs (schema, input hygiene, body size, content type) is `invalid_request`.
     */
    oauthErrors?: boolean
  }
}

/** Seconds a client is asked to wait before retrying while the database is unavailable. */
const OUTAGE_RETRY_AFTER_SECONDS = 5

export interface AjvLikeError { instancePath?: string, message?: string, keyword?: string, params?: Record<string, unknown> }

/** Ajv errors as the contract's `errors[]` (also used by the operator CLI and the hosted pages' forms, which check input with the same schemas). */
export function fieldErrors (validation: AjvLikeError[]): FieldError[] {
  return validation.map((e) => {
    const path = (e.instancePath ?? '').split('/').filter(Boolean)
    if (e.keyword === 'required' && typeof e.params?.missingProperty === 'string') path.push(e.params.missingProperty)
    if (e.keyword === 'additionalProperties' && typeof e.params?.additionalProperty === 'string') path.push(e.params.additionalProperty)
    return { field: path.join('.') || 'body', message: e.message ?? 'is invalid' }
  })
}

function sendOAuth (reply: FastifyReply, error: OAuthError): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value)
  // Every answer of the token endpoint is kept out of caches (RFC 6749 §5.1), errors too.
  return reply.code(error.statusCode).headers(NO_STORE_HEADERS)
    .send({ error: error.error, error_description: error.description, ...error.extra })
}

function send (reply: FastifyReply, error: AppError): FastifyReply {
  for (const [name, value] of Object.entries(error.options.headers ?? {})) reply.header(name, value)
  const body: Record<string, unknown> = { detail: error.message, code: error.code, ...error.options.extra }
  if (error.statusCode === 422) body.errors = error.options.errors ?? []
  return reply.code(error.statusCode).type('application/json; charset=utf-8').send(body)
}

/** Maps Fastify's own 4xx errors onto the contract's codes. */
function fromFastify (error: FastifyError): AppError | undefined {
  if (error.validation) return Errors.validation(fieldErrors(error.validation as AjvLikeError[]))
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return Errors.invalidJson()
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return Errors.payloadTooLarge()
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return Errors.unsupportedMediaType()
  }
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500) return Errors.fromStatus(status, error.message)
  return undefined
}

export function registerErrorHandling (app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof OAuthError) return sendOAuth(reply, error)
    const appError = error instanceof AppError ? error : fromFastify(error as FastifyError)
    if (appError) {
      // One place for the token endpoint's shape of refused input, whichever hook refused it.
      const oauth = request.routeOptions.config.oauthErrors === true ? asOAuthInvalidRequest(appError) : undefined
      return oauth ? sendOAuth(reply, oauth) : send(reply, appError)
    }
    // Classified here, once, rather than in each route: whichever query hit the outage.
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ error: describeError(error) }, 'database unavailable')
      return send(reply, Errors.serviceUnavailable(OUTAGE_RETRY_AFTER_SECONDS))
    }
    request.log.error({ err: error }, 'unhandled error')
    return send(reply, Errors.internal())
  })

  app.setNotFoundHandler((request, reply) => {
    return send(reply, Errors.notFound())
  })
}

function body (error: AppError): string {
  return JSON.stringify({ detail: error.message, code: error.code })
}

/**
 * Errors Fastify and Node raise before any route or hook runs: a malformed URL or an
 * over-long path parameter (Fastify's `frameworkErrors`), and errors of the HTTP parser or
 * the request timeout (Node's `clientError`, answered on the raw socket). They get the
 * contract's body, an `x-request-id` and the security headers like every other response.
 */
export function createPreRoutingErrorHandlers (
  securityHeaders: Readonly<Record<string, string>>,
  requestIdOf: (request: IncomingMessage) => string
): Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler'> {
  return {
    frameworkErrors (error, request, reply) {
      const mapped = error.code === 'FST_ERR_BAD_URL'
        ? Errors.badUrl()
        : error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? Errors.uriTooLong() : Errors.badRequest()
      reply.headers(securityHeaders).header('x-request-id', request.id)
      send(reply, mapped)
    },
    clientErrorHandler (error, socket: Socket) {
      if (error.code === 'ECONNRESET' || socket.destroyed) return
      const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage
      // Part of a response is already out: another status line would corrupt it.
      if (!socket.writable || (inFlight && inFlight.headersSent)) {
        socket.destroy()
        return
      }
      const appError = error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? Errors.requestTimeout()
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? (requestLineTooLong((error as { rawPacket?: unknown }).rawPacket) ? Errors.uriTooLong() : Errors.headersTooLarge())
          : Errors.badRequest()
      // A body that stalled belongs to a request whose headers were read: echo its id.
      const requestId = inFlight?.req ? requestIdOf(inFlight.req) : randomUUID()
      const payload = body(appError)
      const headers: Record<string, string> = {
        ...securityHeaders,
        'content-type': 'application/json; charset=utf-8',
        'content-length': String(Buffer.byteLength(payload)),
        'x-request-id': requestId,
        connection: 'close'
      }
      const head = `HTTP/1.1 ${appError.statusCode} ${STATUS_TEXT[appError.statusCode] ?? 'Error'}\r\n` +
        Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')
      socket.end(`${head}\r\n${payload}`)
      // The peer may never read: do not keep its socket past a second.
      setTimeout(() => socket.destroy(), 1000).unref()
    }
  }
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 414: 'URI Too Long', 431: 'Request Header Fields Too Large' }

/**
 * Node's parser reports a request line longer than its header limit as a header overflow:
 * when no line ended within the data it refused, the URL is what was too long (414).
 */
function requestLineTooLong (rawPacket: unknown): boolean {
  if (!Buffer.isBuffer(rawPacket)) return false
  const lineEnd = rawPacket.indexOf('\r\n')
  return lineEnd === -1 || lineEnd > 8192
}
