import { readFileSync } from 'node:fs'
import type { Config } from '../config/index.js'
import { Errors } from '../http/errors.js'
import { type BreachedPasswordCheck, type WarningLog, createHibpCheck } from './breached-passwords.js'
import { normalizePassword } from './password-hasher.js'
import { preloadStrengthEstimator, strengthScore } from './strength-estimator.js'

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

/**
 * zxcvbn's scores run 0–4; 3 means "safely unguessable: moderate protection from an offline
 * slow-hash attack" (about 10^8 guesses and more), which is what an argon2id hash that leaks
 * must withstand.
 */
const MIN_STRENGTH_SCORE = 3

/** Words of the product itself: a password built from them is guessed first. */
const PRODUCT_WORDS = ['authd', 'auth', 'authentication']

export interface PolicyContext {
  email?: string | undefined
  username?: string | undefined
  /** More words a guesser would try for this deployment (e.g. the host name's labels). */
  words?: readonly string[] | undefined
}

/**
 * NIST SP 800-63B: length, a blocklist and an estimate of how guessable the password is, no
 * composition rules. Returns the reason a password is refused, or undefined when it is
 * acceptable. Length counts code points after NFKC.
 */
export async function passwordProblem (password: string, context: PolicyContext, limits: { minLength: number, maxLength: number }): Promise<string | undefined> {
  // Refused at the HTTP edge already; here for the CLI and any other caller.
  if (!password.isWellFormed()) return 'Password must not contain unpaired UTF-16 surrogates'
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
  const contextWords = [context.email, localPart, username, ...PRODUCT_WORDS, ...(context.words ?? [])]
    .filter((word): word is string => typeof word === 'string' && word.length >= 3)
  if (await strengthScore(normalized, contextWords) < MIN_STRENGTH_SCORE) return 'Password is too easy to guess'
  return undefined
}

/**
 * Loads the blocklist and starts the estimator's worker ahead of the first request (a
 * start-up cost, not a first-user cost).
 */
export async function preloadPasswordPolicy (): Promise<void> {
  commonPasswords()
  await preloadStrengthEstimator()
}

export interface PasswordPolicy {
  /** Throws 422 `weak_password` naming `field` when the password is refused. */
  assertAcceptable: (field: string, password: string, context: PolicyContext) => Promise<void>
}

/**
 * The one password policy of every entry point that sets a password (sign-up, change, reset,
 * the admin API): the local checks above, then, when configured, the breach corpus. The
 * local checks come first, so a password refused anyway costs no look-up.
 */
export function createPasswordPolicy (deps: {
  limits: { minLength: number, maxLength: number }
  /** Deployment words (e.g. the labels of PUBLIC_URL's host), added to every context. */
  words?: readonly string[]
  breached?: BreachedPasswordCheck | undefined
}): PasswordPolicy {
  return {
    async assertAcceptable (field, password, context) {
      const problem = await passwordProblem(password, { ...context, words: [...(deps.words ?? []), ...(context.words ?? [])] }, deps.limits)
      if (problem) throw Errors.weakPassword(field, problem)
      if (deps.breached && await deps.breached.isBreached(password)) {
        throw Errors.weakPassword(field, 'Password has appeared in a data breach')
      }
    }
  }
}

/** The labels of a host name worth guessing with ("auth", "example" of auth.example.com). */
export function hostWords (url: string): string[] {
  const labels = new URL(url).hostname.split('.')
  return labels.slice(0, Math.max(1, labels.length - 1)).filter((label) => label.length >= 3 && !/^\d+$/.test(label))
}

/** The policy the configuration asks for (BREACHED_PASSWORDS, PASSWORD_MIN_LENGTH, PUBLIC_URL). */
export function passwordPolicyFromConfig (config: Config, log: WarningLog): PasswordPolicy {
  const breached = config.password.breached
  return createPasswordPolicy({
    limits: { minLength: config.password.minLength, maxLength: config.password.maxLength },
    words: hostWords(config.publicUrl),
    breached: breached.mode === 'hibp' ? createHibpCheck({ apiUrl: breached.apiUrl, timeoutMs: breached.timeoutMs, log }) : undefined
  })
}
