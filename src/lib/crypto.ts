import { hash, randomBytes, timingSafeEqual } from 'node:crypto'
import { v7 as uuidv7 } from 'uuid'

/** An opaque secret of `bytes` random bytes (32 = 256 bits), URL-safe. */
export function randomToken (bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

/** Only hashes of opaque tokens are stored: a database leak yields no usable token. */
export function sha256 (value: string): string {
  // One-shot hash: no Hash object per call (this runs on every authenticated request).
  return hash('sha256', value, 'base64url')
}

/** Compares secrets without leaking, through timing, how many leading bytes matched. */
export function constantTimeEqual (a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

/** Time-ordered UUIDs (v7) keep primary-key indexes append-mostly. */
export function newId (): string {
  return uuidv7()
}
