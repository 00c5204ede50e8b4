import type { FastifyRequest } from 'fastify'
import type { Config } from '../config/index.js'
import { authOf } from '../http/authenticate.js'
import { Errors } from '../http/errors.js'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

function originOf (value: string): string | undefined {
  try {
    return new URL(value).origin
  } catch {
    return undefined
  }
}

/**
 * CSRF guard of the admin API (onRequest, after `authenticate`): a cookie-authenticated
 * state-changing request must not come from another site. A superuser's browser is the most
 * valuable one to trick into creating or promoting an account. Bearer requests cannot be
 * forged by a foreign page and pass.
 */
export function createAdminCsrfGuard (config: Pick<Config, 'allowedOrigins'>) {
  const allowed = new Set(config.allowedOrigins)
  return async function adminCsrfGuard (request: FastifyRequest): Promise<void> {
    if (SAFE_METHODS.has(request.method) || !authOf(request).viaCookie) return
    if (request.headers['sec-fetch-site'] === 'cross-site') throw Errors.csrfFailed()
    const origin = request.headers.origin
    const referer = request.headers.referer
    const source = typeof origin === 'string' ? originOf(origin) ?? 'invalid' : typeof referer === 'string' ? originOf(referer) ?? 'invalid' : undefined
    if (source !== undefined && !allowed.has(source)) throw Errors.csrfFailed()
  }
}
