import { isIPv4, isIPv6 } from 'node:net'
import type { FastifyBaseLogger } from 'fastify'
import type { Config, RateRule } from '../config/index.js'
import type { CounterHit, KeyValueStore } from '../kv/kv.js'
import { sha256 } from '../lib/crypto.js'
import { rateLimitHits } from '../metrics/metrics.js'
import { Errors, RateLimitedError } from '../http/errors.js'

/** True for the 429 of a rate limit (the lockout audit tells it from other errors). */
export function isRateLimited (error: unknown): error is RateLimitedError {
  return error instanceof RateLimitedError
}

/**
 * Fixed windows, started by the first hit of each key (INCR + expiry, one atomic step in
 * Redis). Chosen over a sliding window because every check is a single atomic command with
 * no read-then-write race between instances and no per-request log of timestamps to store;
 * the price is that a client can place up to twice the limit across a window boundary,
 * which still bounds online guessing to the same order of magnitude (the per-account
 * failure limit of 5 per 15 minutes allows at most 10 guesses in any 15 minutes).
 */
export interface RateLimiter {
  readonly name: string
  readonly rule: RateRule
  /** Counts one request for `key`; throws 429 `rate_limited` (with Retry-After) once over the limit. */
  hit: (key: string) => Promise<void>
  reset: (key: string) => Promise<void>
}

export interface AuthRateLimits {
  /** Every /signin, /login and password-grant /token attempt, per client IP. */
  signinPerIp: RateLimiter
  /** Sign-in attempts per account email, cleared on success, counted alike for emails with no account. */
  signinPerAccount: RateLimiter
  signupPerIp: RateLimiter
  /** For POST /forgot-password: `hit(email)`, counted alike for unknown emails. */
  forgotPasswordPerEmail: RateLimiter
  /** For POST /forgot-password: `hit(request.ip)`. */
  forgotPasswordPerIp: RateLimiter
  /** For POST /resend-verification: `hit(user id)`. */
  resendVerificationPerAccount: RateLimiter
  /** Wrong second-step codes per user id, cleared on success. */
  mfaPerAccount: RateLimiter
  /** Passkey sign-in options and attempts per client IP. */
  passkeyPerIp: RateLimiter
  /**
   * Re-entered passwords (POST /change-password, two-step verification's management), per
   * user id: a stolen access token must not become an unlimited oracle for the current
   * password. Cleared once the password is verified.
   */
  changePasswordPerAccount: RateLimiter
}

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function ipv6Groups (address: string): number[] | undefined {
  const bare = address.split('%')[0]!
  if (!isIPv6(bare)) return undefined
  let text = bare.toLowerCase()
  // A trailing dotted quad (::ffff:192.0.2.1) is two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number]
    text = text.slice(0, quad.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined]
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const missing = 8 - left.length - right.length
  return [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right].map((g) => parseInt(g, 16))
}

/**
 * The key a per-IP limit counts a client by: an IPv4 address as is; an IPv4-mapped IPv6
 * address (::ffff:a.b.c.d, what a dual-stack socket reports) as that IPv4 address; any other
 * IPv6 address by its /64, since one subscriber usually gets a whole /64 and could otherwise
 * take a fresh address for every request. Anything else (no address) counts as itself.
 */
export function ipRateLimitKey (ip: string): string {
  if (isIPv4(ip)) return ip
  const groups = ipv6Groups(ip)
  if (!groups) return ip
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`
}

/** Counters keep no email in clear: keys are hashed, so a Redis dump holds no address list. */
function counterKey (name: string, key: string): string {
  return `rl:${name}:${sha256(key.trim().toLowerCase())}`
}

/**
 * `keyOf` derives what is counted from what the caller passes (per-IP limits pass
 * `ipRateLimitKey`, so every entry point counts addresses alike).
 */
export function createRateLimiter (store: KeyValueStore, name: string, rule: RateRule, enabled = true, keyOf: (key: string) => string = (key) => key): RateLimiter {
  const windowMs = rule.windowSeconds * 1000
  const refuse = (hit: CounterHit): never => { throw Errors.rateLimited(Math.max(1, hit.ttlMs / 1000), hit.count === rule.limit + 1) }
  if (!enabled) {
    return { name, rule, hit: async () => {}, reset: async () => {} }
  }
  return {
    name,
    rule,
    async hit (key) {
      // Past its limit a counter is a lockout: the in-process store keeps it in a protected
      // segment that a spray of fresh keys cannot evict (see src/kv/memory-kv.ts).
      const hit = await store.increment(counterKey(name, keyOf(key)), windowMs, rule.limit)
      if (hit.count > rule.limit) {
        rateLimitHits.inc({ limit: name })
        refuse(hit)
      }
    },
    async reset (key) {
      await store.delete(counterKey(name, keyOf(key)))
    }
  }
}

/**
 * The two limits of POST /forgot-password, in the order to apply them before any lookup:
 * per IP, then per email (normalised, counted alike whether or not an account has it, so
 * the 429 reveals nothing). Call it first thing in the handler.
 */
export async function limitForgotPassword (limits: AuthRateLimits, ip: string, email: string): Promise<void> {
  await limits.forgotPasswordPerIp.hit(ip)
  await limits.forgotPasswordPerEmail.hit(email)
}

/** The limits of `API.md`, from the configuration; all no-ops with RATE_LIMITS=off. */
export function createAuthRateLimits (config: Config, store: KeyValueStore): AuthRateLimits {
  const on = config.rateLimits
  const rules = config.rateLimit
  return {
    signinPerIp: createRateLimiter(store, 'signin-ip', rules.signinPerIp, on, ipRateLimitKey),
    signinPerAccount: createRateLimiter(store, 'signin-account', rules.signinPerAccount, on),
    signupPerIp: createRateLimiter(store, 'signup-ip', rules.signupPerIp, on, ipRateLimitKey),
    forgotPasswordPerEmail: createRateLimiter(store, 'forgot-email', rules.forgotPasswordPerEmail, on),
    forgotPasswordPerIp: createRateLimiter(store, 'forgot-ip', rules.forgotPasswordPerIp, on, ipRateLimitKey),
    resendVerificationPerAccount: createRateLimiter(store, 'resend-verification', rules.resendVerificationPerAccount, on),
    mfaPerAccount: createRateLimiter(store, 'mfa-account', rules.mfaPerAccount, on),
    passkeyPerIp: createRateLimiter(store, 'passkey-ip', rules.passkeyPerIp, on, ipRateLimitKey),
    changePasswordPerAccount: createRateLimiter(store, 'change-password-account', rules.changePasswordPerAccount, on)
  }
}

/**
 * Redis first, the in-process store when Redis fails: while Redis is down each instance
 * keeps limiting on its own counters rather than letting every attempt through (fail open)
 * or refusing every sign-in (fail closed).
 */
export function withFallback (primary: KeyValueStore, fallback: KeyValueStore, log: FastifyBaseLogger): KeyValueStore {
  let warned = 0
  async function attempt<T> (run: (store: KeyValueStore) => Promise<T>): Promise<T> {
    try {
      return await run(primary)
    } catch (error) {
      if (Date.now() - warned > 60_000) {
        warned = Date.now()
        log.warn({ err: error }, 'shared counter store unavailable: using in-process counters')
      }
      return run(fallback)
    }
  }
  return {
    get: (key) => attempt((s) => s.get(key)),
    set: (key, value, ttlMs) => attempt((s) => s.set(key, value, ttlMs)),
    delete: (key) => attempt((s) => s.delete(key)),
    increment: (key, windowMs, limit) => attempt((s) => s.increment(key, windowMs, limit)),
    peek: (key) => attempt((s) => s.peek(key)),
    async close () {
      await Promise.all([primary.close(), fallback.close()])
    }
  }
}
