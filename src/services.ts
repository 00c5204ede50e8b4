import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { createAuditReader, type AuditReader } from './audit/audit-reader.js'
import { type AuditLog, createAuditLog, scheduleAuditRetention } from './audit/audit.service.js'
import { type AuthService, createAuthService } from './auth/auth.service.js'
import type { Config } from './config/index.js'
import { createDb, type DatabaseHandle } from './db/create-db.js'
import { migrateToLatest } from './db/migrate.js'
import type { KeyValueStore } from './kv/kv.js'
import { createMemoryKv } from './kv/memory-kv.js'
import { createRedisKv } from './kv/redis-kv.js'
import { checkRedis, createRedis } from './kv/redis.js'
import type { Clock } from './lib/clock.js'
import { accountChangeNotices } from './mail/account-mail.js'
import { createLogMailer } from './mail/log-mailer.js'
import { createOutboxSender } from './mail/outbox-sender.js'
import { outboxStats } from './mail/outbox.repository.js'
import { createSmtpMailer } from './mail/smtp-mailer.js'
import { registerDependencyState, registerOutboxDepth } from './metrics/metrics.js'
import { describeError } from './lib/outage.js'
import type { PasswordHasher } from './passwords/password-hasher.js'
import { passwordPolicyFromConfig, preloadPasswordPolicy } from './passwords/password-policy.js'
import { type AuthRateLimits, createAuthRateLimits, withFallback } from './rate-limits/rate-limit.js'
import { createRecoveryService, type RecoveryService } from './recovery/recovery.service.js'
import { createRolesService, type RolesService } from './roles/roles.service.js'
import { type Authenticate, createAuthenticate } from './sessions/authenticate.js'
import { createRedisSessionLiveness, revocationChannel } from './sessions/redis-session-liveness.js'
import { createSessionLiveness, type SessionLiveness } from './sessions/session-liveness.js'
import { createSessionRevocation, type SessionRevocation } from './sessions/session-revocation.js'
import { deleteDeadSessions } from './sessions/sessions.repository.js'
import { createTokenSigner, type TokenSigner } from './tokens/jwt.js'
import { scheduleKeyMaintenance } from './tokens/key-rotation.js'
import { deleteDeadTokens } from './tokens/one-time-tokens.repository.js'
import { ensurePrimaryAdmin } from './users/primary-admin.js'
import { createUsersService, type UsersService } from './users/users.service.js'
import { issueMfaChallenge } from './mfa/mfa-challenges.js'
import { createMfaAdminService, type MfaAdminService } from './mfa/mfa-admin.service.js'
import { deleteDeadChallenges } from './mfa/mfa.repository.js'
import { createMfaService, type MfaService } from './mfa/mfa.service.js'
import { deleteDeadWebauthnChallenges } from './mfa/passkeys.repository.js'
import { createPasskeysService, type PasskeysService } from './mfa/passkeys.service.js'

/** Everything the routes are built from; made once per app by `buildServices`. */
export interface Services {
  config: Config
  authenticate: Authenticate
  auth: AuthService
  recovery: RecoveryService
  users: UsersService
  roles: RolesService
  sessions: SessionRevocation
  mfa: MfaService
  mfaAdmin: MfaAdminService
  passkeys: PasskeysService
  rateLimits: AuthRateLimits
  audit: AuditLog
  auditReader: AuditReader
  signer: TokenSigner
  /** Each resolves when its dependency answers (GET /readyz). */
  readinessChecks: Record<string, () => Promise<unknown>>
}

/**
 * Opens and migrates the database, connects Redis, builds every service once and ties each
 * background job and connection to the app's close. The order is the boot order.
 */
export async function buildServices (app: FastifyInstance, config: Config, deps: { clock: Clock, hasher: PasswordHasher }): Promise<Services> {
  const { clock, hasher } = deps
  const database: DatabaseHandle = createDb(config.databaseUrl, {
    timeouts: config.database,
    // One line, not the driver's error object: the pool has dropped the connection and opens
    // another on the next query; requests in between answer 503.
    onConnectionError: (error) => app.log.warn({ error: describeError(error) }, 'database connection lost')
  })
  app.addHook('onClose', async () => { await database.close() })
  // Fails start-up with one line naming DATABASE_URL (and the timeout) instead of hanging.
  await database.verify().catch(async (error: unknown) => { await app.close(); throw error })
  await migrateToLatest(database.db)
  const { db } = database
  const redis = config.redisUrl ? createRedis(config.redisUrl) : undefined
  if (redis) {
    redis.on('error', (error) => app.log.warn({ err: error }, 'redis error'))
    app.addHook('onClose', async () => { await redis.quit().catch(() => redis.disconnect()) })
  }

  const localKv = createMemoryKv({ clock, maxKeys: config.rateLimitMemoryMaxKeys })
  const kv: KeyValueStore = redis ? withFallback(createRedisKv(redis, config.redisKeyPrefix), localKv, app.log) : localKv
  app.addHook('onClose', async () => { await kv.close() })
  const rateLimits = createAuthRateLimits(config, kv)
  if (!config.rateLimits) app.log.warn('RATE_LIMITS=off: sign-in, sign-up and recovery are not rate limited; use this for load tests only')

  await preloadPasswordPolicy()
  const passwordPolicy = passwordPolicyFromConfig(config, app.log.child({ component: 'breached-passwords' }))
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
  const sessions = createSessionRevocation({ db, clock, liveness })
  const authenticate = createAuthenticate({ signer, liveness })

  const audit = createAuditLog({ db, statements: database.statements, clock, log: app.log, retentionDays: config.audit.retentionDays })
  const auditRetention = scheduleAuditRetention(audit, app.log)
  app.addHook('onClose', async () => { auditRetention.stop() })
  await auditRetention.firstRun

  // With two-step verification on, a right password starts the second step instead of a session.
  const auth = createAuthService({ db, statements: database.statements, config, clock, hasher, signer, liveness, sessions, rateLimits, audit, passwordPolicy, secondStep: (user, client) => issueMfaChallenge(db, clock, user, client.clientId) })
  const mfa = createMfaService({ db, statements: database.statements, config, clock, sessions, limiter: rateLimits.mfaPerAccount, audit, confirmPassword: auth.confirmPassword, inSessionTransaction: auth.inSessionTransaction })
  const mfaAdmin = createMfaAdminService({ db, config, clock, sessions })
  const passkeys = createPasskeysService({ db, statements: database.statements, config, clock, limiter: rateLimits.passkeyPerIp, audit, inSessionTransaction: auth.inSessionTransaction })
  const users = createUsersService({ db, config, clock, hasher, sessions, passwordPolicy, notify: accountChangeNotices({ config, clock }) })
  const roles = createRolesService({ db, clock })
  // A refused ADMIN_PASSWORD stops start-up; close what is open so the process can exit.
  const primaryAdmin = await ensurePrimaryAdmin({ db, config, clock, hasher })
    .catch(async (error: unknown) => { await app.close(); throw error })
  if (primaryAdmin === 'email_in_use') app.log.warn('ADMIN_EMAIL belongs to an account whose password is not ADMIN_PASSWORD: primary admin not created')
  if (primaryAdmin === 'other_primary_exists') app.log.warn('a primary admin with another email exists: ADMIN_EMAIL ignored')
  if (primaryAdmin === 'created' || primaryAdmin === 'promoted') app.log.info(`primary admin ${primaryAdmin}`)
  const recovery = createRecoveryService({ db, config, clock, hasher, sessions, audit, passwordPolicy, rateLimits })

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
    // Dead rows, once past the retention period: spent or expired one-time tokens, expired
    // or revoked sessions (with their rotated-out refresh token hashes), and spent or
    // expired second-step and WebAuthn challenges.
    housekeeping: [
      (before) => deleteDeadTokens(db, before),
      (before) => deleteDeadSessions(db, before),
      (before) => deleteDeadChallenges(db, before),
      (before) => deleteDeadWebauthnChallenges(db, before)
    ]
  })
  app.addHook('onReady', async () => { outboxSender.start() })
  // Read only when /metrics is scraped.
  const stopOutboxDepth = registerOutboxDepth(async () => (await outboxStats(db, clock.now())).pending)
  app.addHook('onClose', async () => { stopOutboxDepth() })
  const stopDependencyState = registerDependencyState({
    databasePool: database.poolState,
    redisUp: redis ? () => (redis.status === 'ready' ? 1 : 0) : undefined,
    hashQueue: hasher.queueState
  })
  app.addHook('onClose', async () => { stopDependencyState() })
  app.addHook('onClose', async () => {
    await outboxSender.stop()
    await mailer.close()
  })

  const readinessChecks: Services['readinessChecks'] = {
    database: () => sql`select 1`.execute(db),
    ...(redis ? { redis: () => checkRedis(redis) } : {}),
    // Still serving while it is down (from the database), but no longer at full speed.
    ...(revocationChannelUp
      ? { revocations: async () => { if (!revocationChannelUp()) throw new Error('revocation channel not subscribed') } }
      : {})
  }
  return { config, authenticate, auth, recovery, users, roles, sessions, mfa, mfaAdmin, passkeys, rateLimits, audit, auditReader: createAuditReader(db), signer, readinessChecks }
}
