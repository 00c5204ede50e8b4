import fc from 'fast-check'
import type { Db } from '../../src/database.js'

/** Field names our endpoints read, plus the keys prototype-pollution attacks use. */
export const INTERESTING_KEYS = [
  '__proto__', 'constructor', 'prototype', 'email', 'password', 'username', 'name', 'refresh_token',
  'old_password', 'new_password', 'grant_type', 'token', 'is_superuser', 'role'
]

const hugeString = fc.constantFrom(10_000, 70_000).map((n) => 'é'.repeat(n))
const weirdString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\uFEFF', 'a@b.co', ' A@B.CO ', 'admin', '$2b$04$' + '.'.repeat(53), '{"a":1}', '%00', '../../etc/passwd', "' or 1=1 --")
)
export const fuzzValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: weirdString },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: fc.constantFrom(null, true, 0, -1, 1e308, [], {}) }
)

/**
 * A JSON text: an object whose keys mix the interesting ones with random ones, built by hand
 * so `__proto__` stays an own key in the text as an attacker would send it; or any JSON
 * value; or text that is not JSON at all.
 */
export const fuzzJsonBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.tuple(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...INTERESTING_KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }), fuzzValue), { maxLength: 6 }).map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) }
)

/** An x-www-form-urlencoded body with repeated, missing, huge and prototype keys. */
export const fuzzFormBody: fc.Arbitrary<string> = fc.array(
  fc.tuple(fc.oneof(fc.constantFrom(...INTERESTING_KEYS), fc.string({ maxLength: 12 })), fc.oneof(weirdString, hugeString.map((s) => s.slice(0, 5000)))),
  { maxLength: 6 }
).map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'))

/** Everything the fuzzed endpoints could change, in a comparable form. */
export async function snapshot (db: Db): Promise<string> {
  const users = await db.selectFrom('users').select(['id', 'email', 'username', 'name', 'password_hash', 'is_active', 'is_superuser', 'role']).orderBy('id').execute()
  const sessions = await db.selectFrom('sessions').select(['id', 'refresh_token_hash', 'revoked_at']).orderBy('id').execute()
  return JSON.stringify({ users, sessions })
}

export function prototypeIsClean (): boolean {
  return Object.getOwnPropertyNames(Object.prototype).every((name) => typeof (Object.prototype as Record<string, unknown>)[name] === 'function' || name === '__proto__') &&
    ({} as Record<string, unknown>).polluted === undefined && ({} as Record<string, unknown>).is_superuser === undefined
}
