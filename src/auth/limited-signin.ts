import { AuditEvents, type AuditLog } from '../audit/audit.service.js'
import { type AuthRateLimits, RateLimitedError } from '../http/rate-limit.js'
import type { AuthService, ClientInfo, IssuedTokens } from './auth.service.js'

export type LimitedSignin = (email: string, password: string, client: ClientInfo) => Promise<IssuedTokens>

/**
 * Sign-in behind its two limits, shared by every entry point (/signin, /login, /token and the
 * hosted sign-in page): every attempt counts against the client IP and against the email,
 * whether or not an account has it, so neither a 401 nor a 429 tells an attacker which emails
 * are registered. The email's slot is taken before the password is checked (one atomic
 * increment), so a burst of parallel guesses cannot all pass a not-yet-updated counter; a
 * successful sign-in clears it, so what remains counted are the failures.
 */
export function createLimitedSignin (deps: { auth: AuthService, rateLimits: AuthRateLimits, audit?: AuditLog | undefined }): LimitedSignin {
  const { auth, rateLimits, audit } = deps
  return async function limitedSignin (email, password, client) {
    try {
      await rateLimits.signinPerIp.hit(client.ip ?? '')
      await rateLimits.signinPerAccount.hit(email)
    } catch (error) {
      // Recorded once per locked key and window: a flood of refused attempts must not turn
      // into a flood of writes. No user id: the lockout answers alike for any email.
      if (error instanceof RateLimitedError && error.firstInWindow) {
        await audit?.record(AuditEvents.signinLockedOut, { ip: client.ip, userAgent: client.userAgent, details: { email: email.trim().toLowerCase() } })
      }
      throw error
    }
    const tokens = await auth.signin(email, password, client)
    await rateLimits.signinPerAccount.reset(email)
    return tokens
  }
}
