import { HOTP, Secret, TOTP } from 'otpauth'
import { constantTimeEqual } from '../lib/crypto.js'

/** RFC 6238 as every authenticator app reads it: HMAC-SHA-1, 6 digits, 30-second steps. */
export const TOTP_PERIOD_SECONDS = 30
const DIGITS = 6
/** One step of clock drift accepted either way. */
const DRIFT_STEPS = 1

/** A new 160-bit secret (the HMAC-SHA-1 key size RFC 4226 recommends), base32. */
export function newTotpSecret (): string {
  return new Secret({ size: 20 }).base32
}

/** `otpauth://totp/<issuer>:<account>?issuer=…&secret=…`, the URI apps scan from a QR code. */
export function otpauthUri (secret: string, issuer: string, account: string): string {
  return new TOTP({ issuer, label: account, secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: DIGITS, period: TOTP_PERIOD_SECONDS }).toString()
}

export function timeStep (now: Date): number {
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD_SECONDS)
}

/** Spaces are allowed ("123 456"); anything else that is not 6 digits never matches. */
export function normalizeTotpCode (code: string): string {
  return code.replace(/\s+/g, '')
}

/**
 * The time step whose code `code` is, among the current one and one either side, or
 * undefined. All three candidates are computed and compared, in constant time, whatever the
 * input: how long this takes does not depend on whether, or how nearly, the code matched.
 */
export function matchTotp (secret: string, code: string, now: Date): number | undefined {
  const key = Secret.fromBase32(secret)
  const presented = normalizeTotpCode(code).padEnd(DIGITS, '\u0000').slice(0, 16)
  const current = timeStep(now)
  let matched: number | undefined
  for (let step = current - DRIFT_STEPS; step <= current + DRIFT_STEPS; step++) {
    const candidate = HOTP.generate({ secret: key, algorithm: 'SHA1', digits: DIGITS, counter: step })
    // No early exit: the loop always runs to the end.
    if (constantTimeEqual(candidate, presented)) matched = step
  }
  return matched
}
