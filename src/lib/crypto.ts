import { hash, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto'
import { v7 as uuidv7 } from 'uuid'

// Tokens draw their bytes from a pool filled from the CSPRNG 4 KiB at a time, as Node's own
// randomUUID does: each randomBytes call is a trip into OpenSSL of about 3 µs here, and a
// refresh or a sign-in draws two or three tokens. Each byte is handed out once and zeroed as
// it goes, so the pool never holds a token already issued.
const RANDOM_POOL_BYTES = 4096
const randomPool = Buffer.alloc(RANDOM_POOL_BYTES)
let randomPoolOffset = RANDOM_POOL_BYTES

/** An opaque secret of `bytes` random bytes (32 = 256 bits), URL-safe. */
export function randomToken (bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 1) throw new RangeError(`randomToken: ${bytes} is not a positive byte count`)
  if (bytes > RANDOM_POOL_BYTES) return randomBytes(bytes).toString('base64url')
  if (randomPoolOffset + bytes > RANDOM_POOL_BYTES) {
    randomFillSync(randomPool)
    randomPoolOffset = 0
  }
  const start = randomPoolOffset
  randomPoolOffset += bytes
  const token = randomPool.toString('base64url', start, randomPoolOffset)
  randomPool.fill(0, start, randomPoolOffset)
  return token
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
