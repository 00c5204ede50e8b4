import { contrastRatio } from './contrast.js'

/**
 * The one place that reads the environment. Everything else receives the frozen `Config`
 * object built here, so tests, scripts and the bench build configs the same way.
 */

export type JwtAlgorithm = 'EdDSA' | 'RS256' | 'HS256'

export interface Config {
  readonly host: string
  readonly port: number
  readonly databaseUrl: string
  /**
   * Bounds on every wait for the database, so an unreachable or frozen server gives a quick
   * 503 (and a failed start-up) instead of requests piling up without end.
   */
  readonly database: DatabaseTimeouts
  readonly redisUrl: string | undefined
  readonly publicUrl: string
  readonly allowedOrigins: readonly string[]
  readonly cookieSecure: boolean
  readonly logLevel: string
  readonly trustProxy: readonly string[] | undefined
  readonly http: {
    /** A request (headers and body) not fully received by then is answered 408 and closed. */
    readonly requestTimeoutMs: number
    /** On SIGTERM, how long requests already accepted may take before the process gives up (exit 1). */
    readonly shutdownGraceMs: number
  }
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined
  readonly rateLimits: boolean
  /** Each rule is `limit` requests per `windowSeconds` (RATE_LIMIT_* = "limit/seconds"). */
  readonly rateLimit: {
    readonly signinPerIp: RateRule
    readonly signinPerAccount: RateRule
    readonly signupPerIp: RateRule
    readonly forgotPasswordPerEmail: RateRule
    readonly forgotPasswordPerIp: RateRule
    /** POST /resend-verification per account. */
    readonly resendVerificationPerAccount: RateRule
    /** Wrong second-step codes (and re-entered passwords of the MFA endpoints) per account. */
    readonly mfaPerAccount: RateRule
    /** Passkey sign-in options and attempts per client IP. */
    readonly passkeyPerIp: RateRule
    readonly changePasswordPerAccount: RateRule
  }
  /**
   * Most keys the in-process counter store keeps (each of its two segments, see
   * src/kv/memory-kv.ts), so a spray of fresh keys cannot grow the heap without bound.
   */
  readonly rateLimitMemoryMaxKeys: number
  /** Prefix of every Redis key and channel, so deployments (and tests) can share one Redis. */
  readonly redisKeyPrefix: string
  /**
   * A new signing key is made when the newest is this many days old (0: only by command,
   * `npm run cli -- keys rotate`); retired keys are deleted once no token they signed can be valid.
   */
  readonly signingKeyRotationDays: number
  readonly audit: {
    /** Audit events older than this are deleted by a periodic prune; 0 keeps them forever. */
    readonly retentionDays: number
  }
  readonly signupEnumerationSafe: boolean
  /** Two-step verification and passkeys. */
  readonly mfa: {
    /** The issuer authenticator apps show next to the account (TOTP_ISSUER, default the PUBLIC_URL host). */
    readonly issuer: string
    /**
     * DATA_ENCRYPTION_KEY, 32 bytes as base64 or hex: TOTP secrets are encrypted at rest with
     * AES-256-GCM when it is set (the production setting). Kept as base64 text here.
     */
    readonly dataEncryptionKey: string | undefined
    /** WebAuthn relying party: id = the PUBLIC_URL host, origin = its origin. */
    readonly rpId: string
    readonly rpName: string
    readonly origin: string
  }
  readonly admin: { readonly email: string | undefined, readonly password: string | undefined }
  readonly mail: {
    readonly smtpUrl: string | undefined
    readonly from: string
    /** The outbox sender: how often it looks for due mail, and how it backs off after a failure. */
    readonly outbox: {
      readonly pollMs: number
      readonly retryBaseMs: number
      readonly retryMaxMs: number
      readonly maxAttempts: number
      /** How long a claimed row stays reserved for one sender; longer than any SMTP timeout. */
      readonly leaseMs: number
      /** Finished mail and spent or expired one-time tokens are deleted after this long. */
      readonly retentionHours: number
    }
  }
  readonly tokens: {
    readonly issuer: string
    /** `aud` of every access token (RFC 9068), and what the verifier requires. */
    readonly audience: string
    /**
     * `client_id` of tokens issued to callers that name no client: the API's own endpoints, and
     * `/token` requests without a `client_id` (public clients only; the value is not a credential).
     */
    readonly defaultClientId: string
    /** HS256 secret; when unset, asymmetric keys are generated and kept in the database. */
    readonly jwtSecret: string | undefined
    readonly algorithm: JwtAlgorithm
    readonly accessTtlSeconds: number
    readonly refreshTtlSeconds: number
    /**
     * Absolute lifetime of a session, however often it is refreshed: then the user signs in
     * again (NIST SP 800-63B §4.1.3 asks for reauthentication at least every 30 days).
     */
    readonly sessionMaxAgeSeconds: number
    readonly resetTtlSeconds: number
    readonly verifyTtlSeconds: number
  }
  readonly sessions: {
    /** Live sessions kept per user; a sign-in past it ends the oldest (MAX_SESSIONS_PER_USER). */
    readonly maxPerUser: number
  }
  readonly password: {
    readonly minLength: number
    readonly maxLength: number
    /**
     * BREACHED_PASSWORDS=hibp: new passwords are also checked against the Pwned Passwords
     * range API (only a 5-character SHA-1 prefix leaves the process); fails open on outage.
     */
    readonly breached: {
      readonly mode: 'off' | 'hibp'
      readonly apiUrl: string
      readonly timeoutMs: number
    }
    readonly argon2: { readonly memoryKib: number, readonly timeCost: number, readonly parallelism: number }
    /** Hashes that may wait for a free core; beyond it, 503 at once instead of a longer queue. */
    readonly hashQueueMax: number
  }
  /**
   * How long a "this session is live" answer may be served from memory. Revocations made by this
   * process invalidate it at once; the TTL bounds how long another instance's revocation can go
   * unseen when no shared invalidation channel (Redis) exists.
   */
  readonly sessionCacheTtlMs: number
  /** Branding of the hosted pages (/signin, /account, …). */
  readonly pages: {
    readonly productName: string
    /** A path on this origin or an http(s) URL; unset shows the product name alone. */
    readonly logoUrl: string | undefined
    /** `#rrggbb`; refused unless white text on it meets WCAG AA (4.5:1). */
    readonly accentColor: string
  }
}

export interface DatabaseTimeouts {
  /** Opening one connection (TCP, TLS, authentication). */
  readonly connectTimeoutMs: number
  /** Getting a connection for a query, waiting for a free pool slot included. */
  readonly poolTimeoutMs: number
  /** One statement (0: no limit); also the client-side limit on waiting for the server's answer. */
  readonly statementTimeoutMs: number
}

export interface RateRule { readonly limit: number, readonly windowSeconds: number }

export class ConfigError extends Error {
  constructor (readonly variable: string, message: string) {
    super(`${variable}: ${message}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

function read (env: Env, name: string): string | undefined {
  const value = env[name]
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

function integer (env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = read(env, name)
  if (raw === undefined) return fallback
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`)
  return value
}

function boolean (env: Env, name: string, fallback: boolean, truthy = 'true', falsy = 'false'): boolean {
  const raw = read(env, name)?.toLowerCase()
  if (raw === undefined) return fallback
  if (raw === truthy || raw === '1' || raw === 'yes' || raw === 'on') return true
  if (raw === falsy || raw === '0' || raw === 'no' || raw === 'off') return false
  throw new ConfigError(name, `must be ${truthy} or ${falsy}, got "${raw}"`)
}

function httpUrl (name: string, raw: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(name, `is not a valid URL: "${raw}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, 'must be an http:// or https:// URL')
  return url
}

function databaseUrl (env: Env): string {
  const raw = read(env, 'DATABASE_URL') ?? 'sqlite:./data/auth.db'
  if (raw.startsWith('sqlite:')) {
    if (raw.slice('sqlite:'.length) === '') throw new ConfigError('DATABASE_URL', 'sqlite: needs a path, e.g. sqlite:./data/auth.db')
    return raw
  }
  if (/^postgres(ql)?:\/\//.test(raw)) {
    try {
      // eslint-disable-next-line no-new
      new URL(raw)
    } catch {
      throw new ConfigError('DATABASE_URL', 'is not a valid postgres:// URL')
    }
    return raw
  }
  throw new ConfigError('DATABASE_URL', 'must start with sqlite: or postgres://')
}

function optionalUrl (env: Env, name: string, schemes: readonly string[]): string | undefined {
  const raw = read(env, name)
  if (raw === undefined) return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(name, 'is not a valid URL')
  }
  if (!schemes.includes(url.protocol)) throw new ConfigError(name, `must use one of ${schemes.join(', ')}`)
  return raw
}

function trustProxy (env: Env): string[] | undefined {
  const raw = read(env, 'TRUST_PROXY')
  if (raw === undefined) return undefined
  const entries = raw.split(',').map((s) => s.trim()).filter(Boolean)
  for (const entry of entries) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(entry)) throw new ConfigError('TRUST_PROXY', `"${entry}" is not an IP address or CIDR`)
  }
  return entries
}

function rateRule (env: Env, name: string, fallback: RateRule): RateRule {
  const raw = read(env, name)
  if (raw === undefined) return fallback
  const match = /^(\d+)\/(\d+)$/.exec(raw)
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
    throw new ConfigError(name, `must be "limit/seconds" with positive whole numbers (e.g. 10/60), got "${raw}"`)
  }
  return { limit: Number(match[1]), windowSeconds: Number(match[2]) }
}

function breachedPasswords (env: Env): 'off' | 'hibp' {
  const raw = read(env, 'BREACHED_PASSWORDS')?.toLowerCase() ?? 'off'
  if (raw !== 'off' && raw !== 'hibp') throw new ConfigError('BREACHED_PASSWORDS', `must be off or hibp, got "${raw}"`)
  return raw
}

function pages (env: Env): Config['pages'] {
  const productName = read(env, 'PAGES_PRODUCT_NAME') ?? 'authd'
  if (productName.length > 60 || /\p{Cc}/u.test(productName)) {
    throw new ConfigError('PAGES_PRODUCT_NAME', 'must be at most 60 characters, without control characters')
  }
  const logoUrl = read(env, 'PAGES_LOGO_URL')
  if (logoUrl !== undefined && !/^\/(?![/\\])/.test(logoUrl)) httpUrl('PAGES_LOGO_URL', logoUrl)
  const accentColor = (read(env, 'PAGES_ACCENT_COLOR') ?? '#1d4ed8').toLowerCase()
  if (!/^#[0-9a-f]{6}$/.test(accentColor)) throw new ConfigError('PAGES_ACCENT_COLOR', `must be a colour like #1d4ed8, got "${accentColor}"`)
  // Buttons put white text on the accent: below 4.5:1 that text fails WCAG 2.2 AA.
  if (contrastRatio(accentColor, '#ffffff') < 4.5) {
    throw new ConfigError('PAGES_ACCENT_COLOR', `${accentColor} is too light: white text on it must reach a 4.5:1 contrast (WCAG AA)`)
  }
  return { productName, logoUrl, accentColor }
}

/** DATA_ENCRYPTION_KEY: exactly 32 bytes, written as 64 hex digits or as base64 / base64url. */
function dataEncryptionKey (env: Env): string | undefined {
  const raw = read(env, 'DATA_ENCRYPTION_KEY')
  if (raw === undefined) return undefined
  let key: Buffer | undefined
  if (/^[0-9a-fA-F]{64}$/.test(raw)) key = Buffer.from(raw, 'hex')
  else if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(raw)) key = Buffer.from(raw, 'base64')
  if (!key || key.length !== 32) {
    throw new ConfigError('DATA_ENCRYPTION_KEY', 'must be 32 random bytes as 64 hex digits or base64 (e.g. openssl rand -base64 32)')
  }
  return key.toString('base64')
}

function metricsToken (env: Env): string | undefined {
  const raw = read(env, 'METRICS_TOKEN')
  if (raw !== undefined && Buffer.byteLength(raw) < 16) throw new ConfigError('METRICS_TOKEN', 'must be at least 16 bytes long')
  return raw
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** An OAuth client id as it appears in tokens: short, printable, no separators of other syntaxes. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._~:-]{1,64}$/

/**
 * Where the service is reached when PUBLIC_URL is unset: the address it listens on, so links,
 * the issuer and the CSRF origin all match what the start-up line prints. A wildcard listen
 * address is reached through the loopback address.
 */
function listenUrl (host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`
}

const LOOPBACK_HOSTS = ['127.0.0.1', '[::1]']

/** Builds and validates the configuration; throws `ConfigError` naming the first bad variable. */
export function loadConfig (env: Env = process.env): Config {
  const host = read(env, 'HOST') ?? '127.0.0.1'
  const port = integer(env, 'PORT', 8000, 0, 65535)
  const publicUrlRaw = read(env, 'PUBLIC_URL')
  const publicUrl = httpUrl('PUBLIC_URL', publicUrlRaw ?? listenUrl(host, port))
  // With the default public URL on a loopback address, a browser may as well be pointed at
  // localhost: that origin is the same machine, so it is allowed too.
  const loopbackDefault = publicUrlRaw === undefined && LOOPBACK_HOSTS.includes(publicUrl.hostname)
  const defaultOrigins = loopbackDefault
    ? [publicUrl.origin, `http://localhost:${publicUrl.port}`]
    : [publicUrl.origin]
  // WebAuthn takes a domain, never an IP address, as relying party id: with the loopback
  // default, passkeys (and the authenticator apps' issuer, for the same account) use localhost.
  const browserUrl = loopbackDefault ? new URL(`http://localhost:${publicUrl.port}`) : publicUrl
  const allowedOrigins = (read(env, 'ALLOWED_ORIGINS')?.split(',') ?? defaultOrigins)
    .map((o) => o.trim()).filter(Boolean)
    .map((o) => httpUrl('ALLOWED_ORIGINS', o).origin)
  const issuer = read(env, 'JWT_ISSUER') ?? publicUrl.origin
  const audience = read(env, 'JWT_AUDIENCE') ?? issuer
  if (/\s|,/.test(audience)) throw new ConfigError('JWT_AUDIENCE', 'must be one audience (a URI or name, no spaces or commas)')
  const defaultClientId = read(env, 'OAUTH_DEFAULT_CLIENT_ID') ?? 'authd'
  if (!CLIENT_ID_PATTERN.test(defaultClientId)) throw new ConfigError('OAUTH_DEFAULT_CLIENT_ID', 'must be 1-64 characters of A-Z a-z 0-9 . _ ~ : -')

  const jwtSecret = read(env, 'JWT_SECRET')
  if (jwtSecret !== undefined && Buffer.byteLength(jwtSecret) < 32) {
    throw new ConfigError('JWT_SECRET', 'must be at least 32 bytes long')
  }
  const algorithmRaw = read(env, 'JWT_ALGORITHM') ?? (jwtSecret ? 'HS256' : 'EdDSA')
  if (!['EdDSA', 'RS256', 'HS256'].includes(algorithmRaw)) throw new ConfigError('JWT_ALGORITHM', 'must be EdDSA, RS256 or HS256')
  if (algorithmRaw === 'HS256' && !jwtSecret) throw new ConfigError('JWT_ALGORITHM', 'HS256 needs JWT_SECRET')
  if (algorithmRaw !== 'HS256' && jwtSecret) throw new ConfigError('JWT_ALGORITHM', `${algorithmRaw} cannot be used with JWT_SECRET`)

  const logLevel = read(env, 'LOG_LEVEL') ?? 'info'
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`)

  const rateLimits = read(env, 'RATE_LIMITS') ?? 'on'
  if (rateLimits !== 'on' && rateLimits !== 'off') throw new ConfigError('RATE_LIMITS', 'must be on or off')

  const adminEmail = read(env, 'ADMIN_EMAIL')?.toLowerCase()
  const adminPassword = env.ADMIN_PASSWORD === '' ? undefined : env.ADMIN_PASSWORD
  const databaseUrlValue = databaseUrl(env)
  const redisUrl = optionalUrl(env, 'REDIS_URL', ['redis:', 'rediss:'])

  const config: Config = {
    host,
    port,
    databaseUrl: databaseUrlValue,
    database: {
      connectTimeoutMs: integer(env, 'DATABASE_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
      poolTimeoutMs: integer(env, 'DATABASE_POOL_TIMEOUT_MS', 5000, 100, 600_000),
      statementTimeoutMs: integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 10_000, 0, 86_400_000)
    },
    redisUrl,
    publicUrl: publicUrl.href.replace(/\/$/, ''),
    allowedOrigins,
    cookieSecure: boolean(env, 'COOKIE_SECURE', publicUrl.protocol === 'https:'),
    logLevel,
    trustProxy: trustProxy(env),
    http: {
      requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
      shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 10_000, 0, 3_600_000)
    },
    metricsToken: metricsToken(env),
    rateLimits: rateLimits === 'on',
    rateLimit: {
      signinPerIp: rateRule(env, 'RATE_LIMIT_SIGNIN_PER_IP', { limit: 10, windowSeconds: 60 }),
      signinPerAccount: rateRule(env, 'RATE_LIMIT_SIGNIN_PER_ACCOUNT', { limit: 5, windowSeconds: 900 }),
      signupPerIp: rateRule(env, 'RATE_LIMIT_SIGNUP_PER_IP', { limit: 20, windowSeconds: 3600 }),
      forgotPasswordPerEmail: rateRule(env, 'RATE_LIMIT_FORGOT_PASSWORD_PER_EMAIL', { limit: 3, windowSeconds: 3600 }),
      forgotPasswordPerIp: rateRule(env, 'RATE_LIMIT_FORGOT_PASSWORD_PER_IP', { limit: 20, windowSeconds: 3600 }),
      resendVerificationPerAccount: rateRule(env, 'RATE_LIMIT_RESEND_VERIFICATION_PER_ACCOUNT', { limit: 3, windowSeconds: 3600 }),
      mfaPerAccount: rateRule(env, 'RATE_LIMIT_MFA_PER_ACCOUNT', { limit: 5, windowSeconds: 900 }),
      passkeyPerIp: rateRule(env, 'RATE_LIMIT_PASSKEY_PER_IP', { limit: 30, windowSeconds: 60 }),
      changePasswordPerAccount: rateRule(env, 'RATE_LIMIT_CHANGE_PASSWORD_PER_ACCOUNT', { limit: 5, windowSeconds: 900 })
    },
    rateLimitMemoryMaxKeys: integer(env, 'RATE_LIMIT_MEMORY_MAX_KEYS', 100_000, 10, 100_000_000),
    redisKeyPrefix: read(env, 'REDIS_KEY_PREFIX') ?? 'authd:',
    signingKeyRotationDays: integer(env, 'SIGNING_KEY_ROTATION_DAYS', 90, 0, 3650),
    audit: { retentionDays: integer(env, 'AUDIT_RETENTION_DAYS', 365, 0, 36_500) },
    signupEnumerationSafe: boolean(env, 'SIGNUP_ENUMERATION_SAFE', false),
    mfa: {
      issuer: read(env, 'TOTP_ISSUER') ?? browserUrl.host,
      dataEncryptionKey: dataEncryptionKey(env),
      rpId: browserUrl.hostname,
      rpName: read(env, 'TOTP_ISSUER') ?? browserUrl.host,
      origin: browserUrl.origin
    },
    admin: { email: adminEmail, password: adminPassword },
    mail: {
      smtpUrl: optionalUrl(env, 'SMTP_URL', ['smtp:', 'smtps:']),
      from: read(env, 'MAIL_FROM') ?? 'no-reply@localhost',
      outbox: {
        pollMs: integer(env, 'OUTBOX_POLL_MS', 1000, 10, 3_600_000),
        // 5 s, 10 s, 20 s … capped at 30 min: 20 attempts ride out an SMTP outage of about 6 hours.
        retryBaseMs: integer(env, 'OUTBOX_RETRY_BASE_MS', 5000, 1, 3_600_000),
        retryMaxMs: integer(env, 'OUTBOX_RETRY_MAX_MS', 1_800_000, 1, 86_400_000),
        maxAttempts: integer(env, 'OUTBOX_MAX_ATTEMPTS', 20, 1, 1000),
        leaseMs: integer(env, 'OUTBOX_LEASE_MS', 120_000, 1000, 3_600_000),
        retentionHours: integer(env, 'OUTBOX_RETENTION_HOURS', 168, 1, 87_600)
      }
    },
    tokens: {
      issuer,
      audience,
      defaultClientId,
      jwtSecret,
      algorithm: algorithmRaw as JwtAlgorithm,
      accessTtlSeconds: integer(env, 'ACCESS_TOKEN_TTL', 900, 1),
      refreshTtlSeconds: integer(env, 'REFRESH_TOKEN_TTL', 1_209_600, 1),
      sessionMaxAgeSeconds: integer(env, 'SESSION_MAX_AGE', 2_592_000, 1),
      resetTtlSeconds: integer(env, 'RESET_TOKEN_TTL', 3600, 1),
      verifyTtlSeconds: integer(env, 'VERIFY_TOKEN_TTL', 172_800, 1)
    },
    sessions: { maxPerUser: integer(env, 'MAX_SESSIONS_PER_USER', 100, 1, 100_000) },
    password: {
      minLength: integer(env, 'PASSWORD_MIN_LENGTH', 8, 8, 64),
      maxLength: 128,
      breached: {
        mode: breachedPasswords(env),
        apiUrl: httpUrl('BREACHED_PASSWORDS_API_URL', read(env, 'BREACHED_PASSWORDS_API_URL') ?? 'https://api.pwnedpasswords.com').href.replace(/\/$/, ''),
        timeoutMs: integer(env, 'BREACHED_PASSWORDS_TIMEOUT_MS', 1500, 50, 30_000)
      },
      argon2: {
        // OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane. Raise freely: the parameters
        // are stored in each hash and old hashes are upgraded on the next sign-in.
        memoryKib: integer(env, 'ARGON2_MEMORY_KIB', 19_456, 1024, 4_194_304),
        timeCost: integer(env, 'ARGON2_TIME_COST', 2, 1, 100),
        parallelism: integer(env, 'ARGON2_PARALLELISM', 1, 1, 16)
      },
      // 32 waiting hashes are about a second of work on two cores at the default cost (about
      // 65 ms each): past that, a caller is better served by a quick 503 than by a longer queue.
      hashQueueMax: integer(env, 'PASSWORD_HASH_QUEUE_MAX', 32, 0, 1_000_000)
    },
    // SQLite is one process's database, so the cache can trust its own invalidations. With
    // PostgreSQL other instances may revoke sessions: without Redis to tell us, never cache.
    sessionCacheTtlMs: integer(env, 'SESSION_CACHE_TTL_MS',
      databaseUrlValue.startsWith('sqlite:') || redisUrl ? 60_000 : 0, 0, 3_600_000),
    pages: pages(env)
  }
  return deepFreeze(config)
}

function deepFreeze<T> (value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}
