import { createHash } from 'node:crypto'
import { breachedPasswordChecks } from '../metrics/metrics.js'
import { normalizePassword } from './password-hasher.js'

/** Where the fail-open warning goes (a pino logger, or the CLI's stderr). */
export interface WarningLog { warn: (details: { err: unknown }, message: string) => void }

export interface BreachedPasswordCheck {
  /** True when the password is in the breach corpus; false when not, or when the check failed. */
  isBreached: (password: string) => Promise<boolean>
}

/**
 * The Pwned Passwords range API (k-anonymity): only the first 5 hex characters of the SHA-1
 * of the password leave the process; the answer lists every suffix of that range with its
 * count, and the match is made here. `Add-Padding` asks for decoy entries (count 0), so the
 * size of the answer does not tell an observer which range was asked for.
 *
 * Fails open: when the API is slow (past `timeoutMs`) or down, the password is judged by the
 * local checks alone, counted in `authd_breached_password_checks_total{outcome="error"}` and
 * logged as a warning (at most once a minute), since an outage of a third party must not stop
 * every sign-up and password change.
 */
export function createHibpCheck (deps: { apiUrl: string, timeoutMs: number, log: WarningLog, fetch?: typeof fetch }): BreachedPasswordCheck {
  const fetchRange = deps.fetch ?? fetch
  let lastWarning = 0
  return {
    async isBreached (password) {
      const digest = createHash('sha1').update(normalizePassword(password), 'utf8').digest('hex').toUpperCase()
      const prefix = digest.slice(0, 5)
      const suffix = digest.slice(5)
      try {
        const response = await fetchRange(`${deps.apiUrl}/range/${prefix}`, {
          headers: { 'add-padding': 'true', 'user-agent': 'authd' },
          signal: AbortSignal.timeout(deps.timeoutMs)
        })
        if (!response.ok) throw new Error(`range API answered ${response.status}`)
        const body = await response.text()
        for (const line of body.split('\n')) {
          const [candidate, count] = line.trim().split(':')
          if (candidate?.toUpperCase() === suffix && Number(count) > 0) {
            breachedPasswordChecks.inc({ outcome: 'breached' })
            return true
          }
        }
        breachedPasswordChecks.inc({ outcome: 'clean' })
        return false
      } catch (error) {
        breachedPasswordChecks.inc({ outcome: 'error' })
        if (Date.now() - lastWarning > 60_000) {
          lastWarning = Date.now()
          deps.log.warn({ err: error }, 'breached-password check unavailable: passwords are accepted on the local checks alone')
        }
        return false
      }
    }
  }
}
