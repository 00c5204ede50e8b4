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
import { createSessionLiveness, type SessionLiveness } from './sessions/session-liveness.js'
import { sql } from 'kysely'
import { createTokenSigner } from './tokens/jwt.js'
import { scheduleKeyMaintenance } from './tokens/key-rotation.js'
import { JWKS_MAX_AGE_SECONDS } from './tokens/key-timeline.js'
import { authorizationServerMetadata } from './auth/oauth-metadata.js'
import { createAuditLog, scheduleAuditRetention } from './audit/audit.service.js'
import { createAuditReader } from './audit/audit-reader.js'
import { auditRoutes } from './audit/audit.routes.js'
import { createRedis } from './kv/redis.js'
import { createRolesService } from './roles/roles.service.js'
import { rolesRoutes } from './roles/roles.routes.js'
import { ensurePrimaryAdmin } from './users/primary-admin.js'
import { usersRoutes } from './users/users.routes.js'
import { createUsersService } from './users/users.service.js'
import type { KeyValueStore } from './kv/kv.js'
import { createMemoryKv } from './kv/memory-kv.js'
import { createRedisKv } from './kv/redis-kv.js'
import { createAuthRateLimits, withFallback } from './http/rate-limit.js'
import { createCsrfGuard } from './http/csrf.js'
import { registerSecurityHeaders } from './http/security-headers.js'
import { refuseNulCharacters } from './http/input-hygiene.js'
import { createLogMailer } from './mail/log-mailer.js'
import { createOutboxSender } from './mail/outbox-sender.js'
import { createSmtpMailer } from './mail/smtp-mailer.js'
import { createRecoveryService } from './recovery/recovery.service.js'
import { recoveryRoutes } from './recovery/recovery.routes.js'
import { deleteDeadTokens } from './recovery/one-time-tokens.repository.js'
import { createRedisSessionLiveness, revocationChannel } from './sessions/redis-session-liveness.js'
import { registerHttpMetrics, registerOutboxDepth } from './metrics/metrics.js'
import { outboxStats } from './mail/outbox.repository.js'

export interface AppOverrides {
  clock?: Clock
  hasher?: PasswordHasher
  /** Where log lines go (default: stdout). */
  logStream?: { write: (line: string) => void }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    quietAccessLog?: boolean
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Builds the whole service (database opened and migrated) without listening. */
export async function buildApp (config: Config, overrides: AppOverrides = {}): Promise<FastifyInstance> {
  const clock = overrides.clock ?? systemClock
  const app = Fastify({
    logger: {
      level: config.logLevel,
      ...(overrides.logStream ? { stream: overrides.logStream } : {}),
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

  const localKv = createMemoryKv({ clock })
  const kv: KeyValueStore = redis ? withFallback(createRedisKv(redis, config.redisKeyPrefix), localKv, app.log) : localKv
  app.addHook('onClose', async () => { await kv.close() })
  const rateLimits = createAuthRateLimits(config, kv)
  if (!config.rateLimits) app.log.warn('RATE_LIMITS=off: sign-in, sign-up and recovery are not rate limited; use this for load tests only')

  const hasher = overrides.hasher ?? createArgon2Hasher(config.password.argon2)
  preloadPasswordPolicy()
  // Computes the decoy hash now, so the first sign-in of an unknown email is not the slow one.
  await hasher.verifyDummy('warm-up')
  const signer = await createTokenSigner({ db, config, clock })
  const stopKeyMaintenance = scheduleKeyMaintenance({ db, config, clock, signer, log: app.log })
  app.addHook('onClose', async () => { stopKeyMaintenance() })
  const localLiveness = createSessionLiveness({ db, clock, ttlMs: config.sessionCacheTtlMs, externalChangeCounter: database.externalChangeCounter })
  let liveness: SessionLiveness = localLiveness
  let revocationChannelUp: (() => boolean) | undefined
  if (redis && config.redisUrl) {
    // Revocations reach every instance through pub/sub on a connection of its own.
    const shared = createRedisSessionLiveness({
      local: localLiveness,
      publisher: redis,
      subscriber: createRedis(config.redisUrl),
      channel: revocationChannel(config.redisKeyPrefix),
      log: app.log
    })
    app.addHook('onClose', async () => { await shared.close() })
    liveness = shared
    revocationChannelUp = shared.trusted
  }
  const authenticate = createAuthenticate({ signer, liveness })
  const audit = createAuditLog({ db, clock, log: app.log, retentionDays: config.audit.retentionDays })
  const auditRetention = scheduleAuditRetention(audit, app.log)
  app.addHook('onClose', async () => { auditRetention.stop() })
  await auditRetention.firstRun
  const auth = createAuthService({ db, config, clock, hasher, signer, liveness, audit })
  const users = createUsersService({ db, config, clock, hasher, liveness })
  const roles = createRolesService({ db, clock })
  // A refused ADMIN_PASSWORD stops start-up; close what is open so the process can exit.
  const primaryAdmin = await ensurePrimaryAdmin({ db, config, clock, hasher })
    .catch(async (error: unknown) => { await app.close(); throw error })
  if (primaryAdmin === 'email_in_use') app.log.warn('ADMIN_EMAIL belongs to an account whose password is not ADMIN_PASSWORD: primary admin not created')
  if (primaryAdmin === 'other_primary_exists') app.log.warn('a primary admin with another email exists: ADMIN_EMAIL ignored')
  if (primaryAdmin === 'created' || primaryAdmin === 'promoted') app.log.info(`primary admin ${primaryAdmin}`)
  const recovery = createRecoveryService({ db, config, clock, hasher, liveness, audit })
  const mailer = config.mail.smtpUrl
    ? createSmtpMailer({ url: config.mail.smtpUrl, from: config.mail.from })
    : createLogMailer(app.log.child({ component: 'mail' }))
  const outboxSender = createOutboxSender({
    db,
    mailer,
    log: app.log.child({ component: 'outbox' }),
    clock,
    config: config.mail.outbox,
    renderers: { password_reset: recovery.renderPasswordReset },
    housekeeping: [(before) => deleteDeadTokens(db, before)]
  })
  app.addHook('onReady', async () => { outboxSender.start() })
  // Read only when /metrics is scraped.
  const stopOutboxDepth = registerOutboxDepth(async () => (await outboxStats(db, clock.now())).pending)
  app.addHook('onClose', async () => { stopOutboxDepth() })
  app.addHook('onClose', async () => {
    await outboxSender.stop()
    await mailer.close()
  })

  app.decorateRequest('auth', null)
  registerHttpMetrics(app)
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  app.addHook('onResponse', async (request, reply) => {
    // Probes hit /healthz and /readyz every few seconds: their successes only at debug level.
    const level = request.routeOptions.config.quietAccessLog && reply.statusCode < 400 ? 'debug' : 'info'
    request.log[level]({
      method: request.method,
      // The path only: a query string is the client's and may carry anything.
      url: request.url.split('?')[0],
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10
    }, 'request')
  })

  // An empty JSON body reads as {}: POST /refresh and /logout are often sent that way.
  const defaultJsonParser = app.getDefaultJsonParser('error', 'error')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) return done(null, {})
    defaultJsonParser(request, body as string, done)
  })
  // Emails are trimmed before validation, so " a@b.co " is accepted as "a@b.co".
  app.addHook('preValidation', async (request) => {
    const body = request.body as Record<string, unknown> | undefined
    if (body && typeof body === 'object' && typeof body.email === 'string') body.email = body.email.trim()
  })

  await app.register(cookie)
  await registerSecurityHeaders(app, config)
  app.addHook('preValidation', createCsrfGuard(config))
  app.addHook('preValidation', refuseNulCharacters)
  await app.register(formbody, { bodyLimit: 64 * 1024 })
  await registerOpenApi(app, config)

  await app.register(healthRoutes, {
    readinessChecks: {
      database: () => sql`select 1`.execute(db),
      ...(redis ? { redis: () => redis.ping() } : {}),
      // Still serving while it is down (from the database), but no longer at full speed.
      ...(revocationChannelUp
        ? { revocations: async () => { if (!revocationChannelUp()) throw new Error('revocation channel not subscribed') } }
        : {})
    }
  })
  await app.register(authRoutes, { prefix: '/api/v1/auth', config, auth, authenticate, rateLimits, audit })
  await app.register(usersRoutes, { prefix: '/api/v1/users', users, authenticate })
  await app.register(rolesRoutes, { prefix: '/api/v1/roles', roles, authenticate })
  await app.register(auditRoutes, { prefix: '/api/v1/audit-events', authenticate, reader: createAuditReader(db) })
  await app.register(recoveryRoutes, { prefix: '/api/v1/auth', recovery, authenticate, rateLimits })

  app.get('/.well-known/jwks.json', {
    schema: { tags: ['operations'], summary: 'Public keys that verify access tokens', operationId: 'jwks' }
  }, async (_request, reply) => {
    // Key rotation publishes a key this long before it signs (see tokens/key-timeline.ts).
    reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
    return signer.jwks()
  })
  const metadata = authorizationServerMetadata(config)
  app.get('/.well-known/oauth-authorization-server', {
    schema: { tags: ['operations'], summary: 'OAuth 2.0 authorization server metadata (RFC 8414)', operationId: 'oauthAuthorizationServerMetadata' }
  }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=3600')
    return metadata
  })

  return app
}
