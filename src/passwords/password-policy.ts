import { readFileSync } from 'node:fs'
import { normalizePassword } from './password-hasher.js'

/** Loaded once: the 10,000 most common passwords (see resources/common-passwords.SOURCE.md). */
let blocklist: Set<string> | undefined

function commonPasswords (): Set<string> {
  if (!blocklist) {
    // Two levels up from both src/auth and dist/auth.
    const text = readFileSync(new URL('../../resources/common-passwords.txt', import.meta.url), 'utf8')
    blocklist = new Set(text.split('\n').map((line) => line.trim().toLowerCase()).filter(Boolean))
  }
  return blocklist
}

export interface PolicyContext { email?: string, username?: string }

/**
 * NIST SP 800-63B: length and a blocklist, no composition rules. Returns the reason a password
 * is refused, or undefined when it is acceptable. Length counts code points after NFKC.
 */
export function passwordProblem (password: string, context: PolicyContext, limits: { minLength: number, maxLength: number }): string | undefined {
  const normalized = normalizePassword(password)
  const length = [...normalized].length
  if (length < limits.minLength) return `Password must be at least ${limits.minLength} characters`
  if (length > limits.maxLength) return `Password must be at most ${limits.maxLength} characters`
  const lower = normalized.toLowerCase()
  if (commonPasswords().has(lower)) return 'Password is too common'
  const localPart = context.email?.split('@')[0]?.toLowerCase()
  const username = context.username?.toLowerCase()
  for (const personal of [localPart, username]) {
    if (!personal) continue
    // Containment only for parts of 3+ characters: a one-letter local part would otherwise
    // forbid every password holding that letter.
    if (lower === personal || (personal.length >= 3 && lower.includes(personal))) {
      return 'Password must not contain your email or username'
    }
  }
  return undefined
}

/** Loads the blocklist ahead of the first request (start-up cost, not a first-user cost). */
export function preloadPasswordPolicy (): void {
  commonPasswords()
}
