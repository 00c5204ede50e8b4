import { hash, randomBytes } from 'node:crypto'
import { constantTimeEqual } from '../lib/crypto.js'

export const RECOVERY_CODE_COUNT = 10
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

/**
 * A recovery code: 16 characters of base32 (80 random bits) shown as `xxxx-xxxx-xxxx-xxxx`.
 * Below 112 bits, so each is stored as SHA-256 over a random 128-bit salt and the code
 * (ASVS 2.6.2); together with the per-account limit on wrong codes that is out of reach of
 * guessing, online or offline.
 */
function newRecoveryCode (): string {
  const bytes = randomBytes(16)
  const chars = [...bytes].map((b) => ALPHABET[b & 31]).join('')
  return chars.match(/.{4}/g)!.join('-')
}

/** Lower-case, without the dashes and spaces people type or paste along. */
export function normalizeRecoveryCode (code: string): string {
  return code.toLowerCase().replace(/[\s-]+/g, '')
}

export function hashRecoveryCode (salt: string, code: string): string {
  return hash('sha256', `${salt}:${normalizeRecoveryCode(code)}`, 'base64url')
}

export interface NewRecoveryCode { code: string, salt: string, codeHash: string }

/** A fresh set of distinct codes with their salted hashes. */
export function newRecoveryCodes (count = RECOVERY_CODE_COUNT): NewRecoveryCode[] {
  const codes = new Set<string>()
  while (codes.size < count) codes.add(newRecoveryCode())
  return [...codes].map((code) => {
    const salt = randomBytes(16).toString('base64url')
    return { code, salt, codeHash: hashRecoveryCode(salt, code) }
  })
}

/**
 * The stored code `code` is, or undefined. Every stored code (used ones too) is hashed and
 * compared in constant time, with no early exit, so the time taken says nothing about which
 * code, if any, matched.
 */
export function matchRecoveryCode<T extends { salt: string, code_hash: string }> (stored: readonly T[], code: string): T | undefined {
  let matched: T | undefined
  for (const row of stored) {
    if (constantTimeEqual(hashRecoveryCode(row.salt, code), row.code_hash)) matched = row
  }
  return matched
}
