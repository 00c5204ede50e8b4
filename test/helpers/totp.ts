import { createHmac } from 'node:crypto'

/**
 * RFC 6238 TOTP written from the RFC (HMAC-SHA-1, 6 digits, 30 s), independent of the library
 * the service uses: tests compute codes from the secret the set-up returned.
 */
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

export function base32Decode (input: string): Buffer {
  const clean = input.replace(/=+$/, '').toUpperCase()
  let bits = 0
  let value = 0
  const out: number[] = []
  for (const char of clean) {
    const index = BASE32.indexOf(char)
    if (index === -1) throw new Error(`not base32: ${char}`)
    value = (value << 5) | index
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Buffer.from(out)
}

/** RFC 4226 HOTP with dynamic truncation. */
export function hotp (secret: string, counter: number, digits = 6): string {
  const message = Buffer.alloc(8)
  message.writeBigUInt64BE(BigInt(counter))
  const digest = createHmac('sha1', base32Decode(secret)).update(message).digest()
  const offset = digest[digest.length - 1]! & 0x0f
  const binary = ((digest[offset]! & 0x7f) << 24) | (digest[offset + 1]! << 16) | (digest[offset + 2]! << 8) | digest[offset + 3]!
  return String(binary % 10 ** digits).padStart(digits, '0')
}

/** The code for the time step of `at`, moved by `stepOffset` steps (±1 = clock drift). */
export function totpCode (secret: string, at: Date, stepOffset = 0): string {
  return hotp(secret, Math.floor(at.getTime() / 1000 / 30) + stepOffset)
}

/** A code that is none of the three the server accepts at `at` (for wrong-code tests). */
export function wrongTotpCode (secret: string, at: Date): string {
  const accepted = new Set([-1, 0, 1].map((offset) => totpCode(secret, at, offset)))
  for (let n = 0; ; n++) {
    const candidate = String((Number(totpCode(secret, at)) + 1 + n * 7919) % 1_000_000).padStart(6, '0')
    if (!accepted.has(candidate)) return candidate
  }
}
