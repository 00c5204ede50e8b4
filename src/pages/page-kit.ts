import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ClientInfo } from '../lib/client-info.js'
import type { Config } from '../config/index.js'
import { FORM_CSRF_FIELD, formCsrfCookieName, formCsrfOk } from '../http/csrf.js'
import { fieldErrors } from '../http/error-handler.js'
import { type AppError, Errors } from '../http/errors.js'
import { randomToken } from '../lib/crypto.js'

export function clientOf (request: FastifyRequest): ClientInfo {
  return { ip: request.ip ?? null, userAgent: request.headers['user-agent'] ?? null }
}

/**
 * Whether the client takes HTML. Browsers always list text/html; a missing Accept or a
 * wildcard is served HTML too; an API client asking for JSON only is not.
 */
export function acceptsHtml (request: FastifyRequest): boolean {
  const accept = request.headers.accept
  if (accept === undefined || accept.trim() === '') return true
  return accept.split(',').some((part) => {
    const [type, ...params] = part.trim().toLowerCase().split(';').map((s) => s.trim())
    if (params.some((p) => /^q=0(\.0*)?$/.test(p))) return false
    return type === 'text/html' || type === '*/*' || type === 'text/*' || type === 'application/xhtml+xml'
  })
}

/** The per-browser token of the form CSRF defence (see `formCsrfOk`): reused, or issued now. */
export function csrfTokenFor (request: FastifyRequest, reply: FastifyReply, config: Config): string {
  const name = formCsrfCookieName(config.cookieSecure)
  const existing = request.cookies[name]
  if (typeof existing === 'string' && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing
  const token = randomToken(32)
  // Lax, not Strict: a link from a mail opens a page whose form must then post. Not read by
  // any script, so HttpOnly; the form repeats it from the server-rendered page.
  reply.setCookie(name, token, { httpOnly: true, sameSite: 'lax', path: '/', secure: config.cookieSecure })
  request.cookies[name] = token
  return token
}

/**
 * preValidation of every page POST: a form body (anything else is the API's 415), then the
 * form CSRF defence. Runs before validation and before any work, so a refused post changes
 * nothing.
 */
export function createFormGuard (config: Config) {
  const allowedOrigins = new Set([new URL(config.publicUrl).origin, ...config.allowedOrigins])
  const cookieName = formCsrfCookieName(config.cookieSecure)
  return async function formGuard (request: FastifyRequest): Promise<void> {
    const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase()
    if (type !== 'application/x-www-form-urlencoded') throw Errors.unsupportedMediaType()
    const body = request.body as Record<string, unknown> | undefined
    if (!formCsrfOk(request, { allowedOrigins, cookieName, submitted: body?.[FORM_CSRF_FIELD] })) throw Errors.csrfFailed()
  }
}

/** The validation failure Fastify attached to the request (attachValidation), as the API's 422. */
export function validationErrorOf (request: FastifyRequest): AppError | undefined {
  const failure = request.validationError as (Error & { validation?: unknown[] }) | undefined
  if (!failure) return undefined
  return Errors.validation(fieldErrors((failure.validation ?? []) as Parameters<typeof fieldErrors>[0]))
}
