import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { auditRoutes } from './admin/audit.routes.js'
import { rolesRoutes } from './admin/roles.routes.js'
import { usersRoutes } from './admin/users.routes.js'
import { authRoutes } from './auth/auth.routes.js'
import { oauthMetadataRoutes } from './auth/oauth-metadata.js'
import { healthRoutes } from './health/health.routes.js'
import { openApiRoutes } from './http/openapi.js'
import { metricsRoutes } from './metrics/metrics.js'
import { pagesRoutes } from './pages/pages.routes.js'
import { mfaAdminRoutes, mfaRoutes } from './mfa/mfa.routes.js'
import { passkeysRoutes } from './mfa/passkeys.routes.js'
import { recoveryRoutes } from './recovery/recovery.routes.js'
import type { Services } from './services.js'
import { jwksRoutes } from './tokens/jwks.routes.js'

export interface RouteGroup {
  /** Where its paths start. */
  prefix: string
  /** Every path it serves, relative to `prefix`, so that any endpoint is found here in one step. */
  paths: readonly string[]
  // The options are checked where each entry is written, against its own plugin.
  register: (app: FastifyInstance) => Promise<unknown>
}

function group<O extends object> (prefix: string, paths: readonly string[], plugin: FastifyPluginAsync<O> | ((app: any, options: O) => Promise<void>), options: O): RouteGroup {
  return { prefix, paths, register: async (app) => app.register(plugin as FastifyPluginAsync<O>, { prefix, ...options }) }
}

/**
 * The route table: every endpoint of the service, in the order it is registered. Each group's
 * plugin (its `*.routes.ts`) holds the schemas, guards (`authenticate`, superuser) and
 * handlers of those paths.
 */
export function routeTable (s: Services): RouteGroup[] {
  const { authenticate } = s
  return [
    group('', ['GET /healthz', 'GET /readyz'], healthRoutes, { readinessChecks: s.readinessChecks }),
    group('', ['GET /metrics'], metricsRoutes, { token: s.config.metricsToken }),
    group('', ['GET /docs', 'GET /docs/*', 'GET /openapi.json'], openApiRoutes, {}),
    group('', ['GET /.well-known/jwks.json'], jwksRoutes, { signer: s.signer }),
    group('', ['GET /.well-known/oauth-authorization-server'], oauthMetadataRoutes, { config: s.config }),
    group('/api/v1/auth', [
      'POST /signup', 'POST /signin', 'POST /login', 'POST /token', 'POST /refresh', 'POST /logout', 'POST /logout-all',
      'GET /me', 'PATCH /me', 'POST /change-password', 'GET /sessions', 'DELETE /sessions/:id'
    ], authRoutes, { config: s.config, auth: s.auth, authenticate, rateLimits: s.rateLimits }),
    group('/api/v1/auth', [
      'POST /forgot-password', 'POST /reset-password', 'POST /verify-email', 'POST /resend-verification'
    ], recoveryRoutes, { recovery: s.recovery, authenticate, rateLimits: s.rateLimits }),
    group('/api/v1/auth', [
      'POST /mfa/totp/setup', 'POST /mfa/totp/confirm', 'POST /mfa/recovery-codes', 'POST /mfa/totp/disable', 'POST /mfa/verify'
    ], mfaRoutes, { config: s.config, mfa: s.mfa, authenticate }),
    group('/api/v1/auth', [
      'POST /passkeys/register/options', 'POST /passkeys/register', 'GET /passkeys', 'PATCH /passkeys/:id', 'DELETE /passkeys/:id',
      'POST /passkeys/signin/options', 'POST /passkeys/signin'
    ], passkeysRoutes, { config: s.config, passkeys: s.passkeys, authenticate }),
    group('/api/v1/users', ['GET /', 'POST /', 'GET /:id', 'PATCH /:id', 'DELETE /:id'], usersRoutes, { users: s.users, authenticate }),
    group('/api/v1/users', ['DELETE /:id/mfa'], mfaAdminRoutes, { admin: s.mfaAdmin, authenticate }),
    group('/api/v1/roles', ['GET /', 'POST /'], rolesRoutes, { roles: s.roles, authenticate }),
    group('/api/v1/audit-events', ['GET /'], auditRoutes, { authenticate, reader: s.auditReader }),
    // The hosted pages (HTML forms posting to page routes of their own) and their assets.
    group('', [
      'GET /assets/*',
      'GET /signin', 'POST /signin', 'GET /signup', 'POST /signup',
      'GET /forgot-password', 'POST /forgot-password', 'GET /reset-password', 'POST /reset-password',
      'GET /verify-email', 'POST /verify-email',
      'GET /account', 'GET /api/v1/auth/renew', 'POST /account/profile', 'POST /account/password',
      'POST /account/sessions/:id/revoke', 'POST /account/verification', 'POST /account/signout', 'POST /account/signout-all',
      'POST /signin/second-step', 'POST /account/mfa/setup', 'POST /account/mfa/confirm', 'POST /account/mfa/recovery-codes',
      'POST /account/mfa/disable', 'POST /account/mfa/recovery-codes/download',
      'POST /account/passkeys/:id/rename', 'POST /account/passkeys/:id/remove'
    ], pagesRoutes, { config: s.config, auth: s.auth, recovery: s.recovery, rateLimits: s.rateLimits, authenticate, twoStep: s.mfa, passkeys: s.passkeys })
  ]
}

/**
 * Registers the table's groups, and refuses to start when a group serves a path its entry does
 * not list (or lists one it does not serve), so the table stays the one place to look. An entry
 * ending in `/*` covers every path below it (the docs UI serves its own assets).
 */
export async function registerRoutes (app: FastifyInstance, table: readonly RouteGroup[]): Promise<void> {
  let served: string[] = []
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') served.push(`${method} ${route.url}`)
  })
  for (const entry of table) {
    served = []
    // Awaiting app.register loads the plugin now, so its routes are in `served` below.
    await entry.register(app)
    const listed = entry.paths.map((path) => {
      const [method, url = ''] = path.split(' ')
      return `${method} ${entry.prefix}${url === '/' && entry.prefix !== '' ? '' : url}`
    })
    const covers = (declared: string, route: string): boolean =>
      declared.endsWith('/*') ? route.startsWith(declared.slice(0, -1)) || route === declared.slice(0, -2) : route === declared
    const unlisted = served.filter((route) => !listed.some((declared) => covers(declared, route)))
    const missing = listed.filter((declared) => !declared.endsWith('/*') && !served.includes(declared))
    if (unlisted.length > 0 || missing.length > 0) {
      throw new Error(`route table out of date for prefix '${entry.prefix}': unlisted ${unlisted.join(', ') || 'none'}; listed but not served ${missing.join(', ') || 'none'}`)
    }
  }
}
