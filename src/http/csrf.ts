import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config/index.js'
import { constantTimeEqual } from '../lib/crypto.js'
import { Errors } from './errors.js'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** The endpoints that set auth cookies: a foreign page must not sign a browser in (login CSRF). */
export const COOKIE_SETTING_ROUTES = [
  '/api/v1/auth/signup',
  '/api/v1/auth/signin',
  '/api/v1/auth/login',
  '/api/v1/auth/refresh',
  '/api/v1/auth/mfa/verify',
  '/api/v1/auth/passkeys/signin'
]

/** True when the browser tells us the request comes from a page outside `allowedOrigins`. */
export function isCrossSite (request: FastifyRequest, allowedOrigins: ReadonlySet<string>): boolean {
  // Fetch metadata is set by the browser and cannot be forged by page scripts.
  if (request.headers['sec-fetch-site'] === 'cross-site') return true
  const origin = request.headers.origin
  if (origin !== undefined) return !allowedOrigins.has(origin)
  const referer = request.headers.referer
  if (referer !== undefined) {
    try {
      return !allowedOrigins.has(new URL(referer).origin)
    } catch {
      return true
    }
  }
  // Neither header: not a browser's cross-site form or fetch (browsers send Origin on
  // cross-site POSTs), e.g. curl or a server-side client.
  return false
}

/**
 * preValidation hook (after the route's `authenticate`, before validation and any work):
 * refuses state-changing requests that a foreign page could make a browser send with its
 * cookies. SameSite=Lax already stops most of them; this is the second, server-side line. Requests authenticated by an
 * Authorization header are not affected: a foreign page cannot attach one without CORS.
 */
export function createCsrfGuard (config: Config, cookieSettingRoutes: readonly string[] = COOKIE_SETTING_ROUTES) {
  const allowed = new Set(config.allowedOrigins)
  const cookieSetting = new Set(cookieSettingRoutes)
  // Synchronous: it runs on every request, and a safe method is answered at once.
  return function csrfGuard (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void {
    if (SAFE_METHODS.has(request.method)) return done()
    const guarded = request.auth?.viaCookie === true || cookieSetting.has(request.routeOptions.url ?? '')
    done(guarded && isCrossSite(request, allowed) ? Errors.csrfFailed() : undefined)
  }
}

/** Name of the cookie holding the pages' CSRF token (`__Host-` pins it to this host over https). */
export function formCsrfCookieName (secure: boolean): string {
  return secure ? '__Host-authd_csrf' : 'authd_csrf'
}

/** The hidden form field that repeats the token. */
export const FORM_CSRF_FIELD = 'csrf_token'

/**
 * The CSRF defence of the hosted pages' form posts (POST /signin, /account/…), stricter than
 * the API's because every legitimate form is ours:
 *  1. Fetch metadata: when the browser sends `Sec-Fetch-Site`, it must be `same-origin`.
 *  2. Otherwise an `Origin`, when it names one, must be an allowed origin. Our pages send
 *     `Referrer-Policy: no-referrer`, under which browsers send `Origin: null` on POST, so
 *     the origin check alone cannot tell our forms from a foreign one there; hence
 *  3. always a double-submit token: the form's `csrf_token` must equal the token cookie
 *     (HttpOnly, SameSite=Lax, `__Host-` over https), which a foreign page can neither read
 *     nor set. This also covers browsers that send neither header.
 * Returns false when the request must be refused.
 */
export function formCsrfOk (request: FastifyRequest, options: { allowedOrigins: ReadonlySet<string>, cookieName: string, submitted: unknown }): boolean {
  const site = request.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin') return false
  const origin = request.headers.origin
  if (site === undefined && origin !== undefined && origin !== 'null' && !options.allowedOrigins.has(origin)) return false
  const expected = request.cookies[options.cookieName]
  if (typeof expected !== 'string' || expected.length < 32 || typeof options.submitted !== 'string') return false
  return constantTimeEqual(expected, options.submitted)
}
