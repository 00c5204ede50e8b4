import { randomUUID } from 'node:crypto'
import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance, LogController } from 'fastify'
import { createAuthService } from './auth/auth.service.js'
import { authRoutes } from './auth/auth.routes.js'
import { createArgon2Hasher, type PasswordHasher } from './auth/password-hasher.js'
import { preloadPasswordPolicy } from './auth/password-policy.js'
import type { Config } from './config/index.js'
import { createDb, type DatabaseHandle } from './db/create-db.js'
import { migrateToLatest } from './db/migrate.js'
import { healthRoutes } from './health/health.routes.js'
import { createAuthenticate } from './http/authenticate.js'
import { registerErrorHandling } from './http/error-handler.js'
import { registerOpenApi } from './http/openapi.js'
import { ErrorResponse } from './http/schemas.js'
import { createValidatorCompiler } from './http/validation.js'
import { type Clock, systemClock } from './lib/clock.js'
import { createSessionLiveness } from './sessions/session-liveness.js'
import { sql } from 'kysely'
import { createTokenSigner } from './tokens/jwt.js'
import { createRedis } from './kv/redis.js'
import { createRolesService } from './roles/roles.service.js'
import { rolesRoutes } from './roles/roles.routes.js'
import { ensurePrimaryAdmin } from './users/primary-admin.js'
import { usersRoutes } from './users/users.routes.js'
import { createUsersService } from './users/users.service.js'

export interface AppOverrides {
  clock?: Clock
  hasher?: PasswordHasher
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Builds the whole service (database opened and migrated) without listening. */
export async function buildApp (config: Config, overrides: AppOverrides = {}): Promise<FastifyInstance> {
  const clock = overrides.clock ?? systemClock
  const app = Fastify({
    logger: {
      level: config.logLevel,
      // Belt and braces: nothing below logs headers or bodies, but if someone adds it, the
      // secrets stay out of the log.
      redact: {
        paths: [
          'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
          'headers.authorization', 'headers.cookie',
          '*.password', '*.new_password', '*.old_password', '*.refresh_token', '*.access_token', '*.token'
        ],
        censor: '[redacted]'
      }
    },
    // One line per request, written in onResponse below, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    trustProxy: config.trustProxy ? [...config.trustProxy] : false,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id']
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 }
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(createValidatorCompiler())
  app.addSchema(ErrorResponse)
  registerErrorHandling(app)

  const database: DatabaseHandle = createDb(config.databaseUrl)
  app.addHook('onClose', async () => { await database.close() })
  await migrateToLatest(database.db)
  const { db } = database
  const redis = config.redisUrl ? createRedis(config.redisUrl) : undefined
  if (redis) {
    redis.on('error', (error) => app.log.warn({ err: error }, 'redis error'))
    app.addHook('onClose', async () => { await redis.quit().catch(() => redis.disconnect()) })
  }

  const hasher = overrides.hasher ?? createArgon2Hasher(config.password.argon2)
  preloadPasswordPolicy()
  const signer = await createTokenSigner({ db, config, clock })
  const liveness = createSessionLiveness({ db, clock, ttlMs: config.sessionCacheTtlMs })
  const authenticate = createAuthenticate({ signer, liveness })
  const auth = createAuthService({ db, config, clock, hasher, signer, liveness })
  const users = createUsersService({ db, config, clock, hasher, liveness })
  const roles = createRolesService({ db, clock })
  // A refused ADMIN_PASSWORD stops start-up; close what is open so the process can exit.
  const primaryAdmin = await ensurePrimaryAdmin({ db, config, clock, hasher })
    .catch(async (error: unknown) => { await app.close(); throw error })
  if (primaryAdmin === 'email_in_use') app.log.warn('ADMIN_EMAIL belongs to an account whose password is not ADMIN_PASSWORD: primary admin not created')
  if (primaryAdmin === 'other_primary_exists') app.log.warn('a primary admin with another email exists: ADMIN_EMAIL ignored')
  if (primaryAdmin === 'created' || primaryAdmin === 'promoted') app.log.info(`primary admin ${primaryAdmin}`)

  app.decorateRequest('auth', null)
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({
      method: request.method,
      // The path only: a query string is the client's and may carry anything.
      url: request.url.split('?')[0],
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10
    }, 'request')
  })

  // Empty JSON bodies read as "no body": POST /refresh and /logout are often sent that way.
  const defaultJsonParser = app.getDefaultJsonParser('error', 'error')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) return done(null, undefined)
    defaultJsonParser(request, body as string, done)
  })
  // Emails are trimmed before validation, so " a@b.co " is accepted as "a@b.co".
  app.addHook('preValidation', async (request) => {
    const body = request.body as Record<string, unknown> | undefined
    if (body && typeof body === 'object' && typeof body.email === 'string') body.email = body.email.trim()
  })

  await app.register(cookie)
  await app.register(formbody, { bodyLimit: 64 * 1024 })
  await registerOpenApi(app, config)

  await app.register(healthRoutes, {
    readinessChecks: {
      database: () => sql`select 1`.execute(db),
      ...(redis ? { redis: () => redis.ping() } : {})
    }
  })
  await app.register(authRoutes, { prefix: '/api/v1/auth', config, auth, authenticate })
  await app.register(usersRoutes, { prefix: '/api/v1/users', config, users, authenticate })
  await app.register(rolesRoutes, { prefix: '/api/v1/roles', config, roles, authenticate })

  app.get('/.well-known/jwks.json', {
    schema: { tags: ['operations'], summary: 'Public keys that verify access tokens', operationId: 'jwks' }
  }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300')
    return signer.jwks()
  })

  return app
}
