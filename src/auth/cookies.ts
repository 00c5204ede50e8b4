import type { FastifyReply } from 'fastify'
import type { Config } from '../config/index.js'
import { ACCESS_COOKIE, REFRESH_COOKIE } from '../sessions/authenticate.js'

export const REFRESH_COOKIE_PATH = '/api/v1/auth'

/**
 * The access cookie goes to every path (SameSite=Lax, so top-level navigations keep working);
 * the refresh cookie only to the auth endpoints and never cross-site (SameSite=Strict).
 */
export function setAuthCookies (reply: FastifyReply, config: Config, tokens: { accessToken: string, refreshToken: string }): void {
  reply.setCookie(ACCESS_COOKIE, tokens.accessToken, {
    httpOnly: true, sameSite: 'lax', path: '/', maxAge: config.tokens.accessTtlSeconds, secure: config.cookieSecure
  })
  reply.setCookie(REFRESH_COOKIE, tokens.refreshToken, {
    httpOnly: true, sameSite: 'strict', path: REFRESH_COOKIE_PATH, maxAge: config.tokens.refreshTtlSeconds, secure: config.cookieSecure
  })
}

export function clearAuthCookies (reply: FastifyReply, config: Config): void {
  reply.clearCookie(ACCESS_COOKIE, { httpOnly: true, sameSite: 'lax', path: '/', secure: config.cookieSecure })
  reply.clearCookie(REFRESH_COOKIE, { httpOnly: true, sameSite: 'strict', path: REFRESH_COOKIE_PATH, secure: config.cookieSecure })
}
