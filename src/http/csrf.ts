import type { FastifyRequest } from 'fastify'
import type { Config } from '../config/index.js'
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
  return async function csrfGuard (request: FastifyRequest): Promise<void> {
    if (SAFE_METHODS.has(request.method)) return
    const guarded = request.auth?.viaCookie === true || cookieSetting.has(request.routeOptions.url ?? '')
    if (guarded && isCrossSite(request, allowed)) throw Errors.csrfFailed()
  }
}
