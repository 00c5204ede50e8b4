import type { Redis } from 'ioredis'
import { createArgon2Hasher } from '../passwords/password-hasher.js'
import type { Config } from '../config/index.js'
import type { Db } from '../database.js'
import { createRedis } from '../kv/redis.js'
import { systemClock } from '../lib/clock.js'
import { createRevocationPublisher, revocationChannel } from '../sessions/redis-session-liveness.js'
import { createSessionLiveness } from '../sessions/session-liveness.js'
import { createSessionRevocation, type SessionRevocation } from '../sessions/session-revocation.js'
import { createTokenSigner, type TokenSigner } from '../tokens/jwt.js'
import { passwordPolicyFromConfig } from '../passwords/password-policy.js'
import { accountChangeNotices } from '../mail/account-mail.js'
import { createUsersService, type UsersService } from '../users/users.service.js'
import { createMfaAdminService, type MfaAdminService } from '../mfa/mfa-admin.service.js'
import type { CliContext } from './command.js'
import { readPassword } from './password-input.js'

/**
 * The services of one CLI run, each built on first use so that `keys list` opens no Redis
 * connection and builds no hasher. `close` releases what was opened.
 */
export function createCliContext (config: Config, db: Db, warn: (line: string) => void): CliContext & { close: () => void } {
  const clock = systemClock
  let redis: Redis | undefined
  let users: UsersService | undefined
  let mfaAdmin: MfaAdminService | undefined
  let sessions: SessionRevocation | undefined
  let signer: Promise<TokenSigner> | undefined

  function buildSessions (): SessionRevocation {
    // No cache in a one-shot process. Running servers learn of its changes from the database
    // (SQLite: they notice another process wrote the file; PostgreSQL without Redis: they do not
    // cache) or, with Redis, from the revocation channel this publishes on.
    const local = createSessionLiveness({ db, clock, ttlMs: 0 })
    if (config.redisUrl) {
      redis = createRedis(config.redisUrl)
      redis.on('error', () => {}) // reported through the publisher's onError
    }
    const liveness = redis
      ? createRevocationPublisher(local, redis, revocationChannel(config.redisKeyPrefix), () => {
        warn('Warning: could not reach Redis to tell running servers; their session caches expire within SESSION_CACHE_TTL_MS')
      })
      : local
    return createSessionRevocation({ db, clock, liveness })
  }
  const revocation = (): SessionRevocation => (sessions ??= buildSessions())
  // The server's policy (BREACHED_PASSWORDS included), so a password the API refuses is refused here too.
  const passwordPolicy = () => passwordPolicyFromConfig(config, {
    warn: () => { warn('Warning: the breached-password check is unavailable; the password was judged by the local checks alone') }
  })

  return {
    config,
    db,
    clock,
    users: () => (users ??= createUsersService({ db, config, clock, hasher: createArgon2Hasher(config.password.argon2), sessions: revocation(), passwordPolicy: passwordPolicy(), notify: accountChangeNotices({ config, clock }) })),
    mfaAdmin: () => (mfaAdmin ??= createMfaAdminService({ db, config, clock, sessions: revocation() })),
    signer: () => (signer ??= createTokenSigner({ db, config, clock })),
    readPassword,
    warn,
    close: () => { redis?.disconnect() }
  }
}
