import argon2 from 'argon2'
import { type Kysely, PostgresAdapter } from 'kysely'
import type { Database } from '../src/database.js'
import { newId, randomToken } from '../src/lib/crypto.js'

const FIRST = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'niaj', 'olivia', 'peggy', 'rupert', 'sybil', 'trent', 'victor', 'walter', 'yara', 'zoe', 'liam', 'noah', 'emma', 'mia', 'lucas', 'sofia', 'mateo', 'chloe', 'hugo']
const LAST = ['smith', 'jones', 'garcia', 'miller', 'davis', 'martin', 'bernard', 'dubois', 'thomas', 'robert', 'richard', 'petit', 'durand', 'leroy', 'moreau', 'simon', 'laurent', 'lefebvre', 'michel', 'muller', 'schmidt', 'schneider', 'fischer', 'weber', 'meyer', 'wagner', 'becker', 'schulz', 'hoffmann', 'koch', 'rossi', 'russo', 'ferrari', 'esposito', 'bianchi', 'romano', 'colombo', 'ricci', 'marino', 'greco', 'tanaka', 'suzuki', 'sato', 'watanabe', 'ito', 'kim', 'lee', 'park', 'choi', 'nguyen']
const DOMAINS = ['example.com', 'example.org', 'mail.test', 'corp.example', 'uni.example.edu']

const capital = (s: string) => s[0]!.toUpperCase() + s.slice(1)

const SEED_EPOCH = Date.UTC(2020, 0, 1)

/** When the i-th seeded user was created: seeded users are told apart by it. */
export function seededAt (i: number): string {
  return new Date(SEED_EPOCH + i * 1000).toISOString()
}

/** The identity of the i-th seeded user (0-based), so a bench can search for one. */
export function seededUser (i: number): { email: string, username: string, name: string } {
  const first = FIRST[i % FIRST.length]!
  const last = LAST[Math.floor(i / FIRST.length) % LAST.length]!
  return { email: `${first}.${last}${i}@${DOMAINS[i % DOMAINS.length]}`, username: `${first}${last}${i}`, name: `${capital(first)} ${capital(last)}` }
}

/**
 * Bulk-inserts `count` users: multi-row inserts in transactions of many rows, the fastest
 * portable way through Kysely. Every user shares one argon2 hash of a random password nobody
 * knows, so seeded accounts cannot be signed in to. Returns the number inserted.
 *
 * Users are `first.lastN@domain` / `firstlastN` / "First Last", the N-th created N seconds after
 * 2020-01-01T00:00:00Z (`seededAt`), one
 * in 50 inactive: each first or last name matches about 1/30 or 1/50 of the users, while
 * `N` makes each user findable alone.
 */
export async function seedUsers (db: Kysely<Database>, count: number, options: { onProgress?: (done: number) => void, offset?: number } = {}): Promise<number> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter
  // Parameters per statement: SQLite allows 32,766, PostgreSQL 65,535; a user row has 14.
  const rowsPerInsert = postgres ? 4000 : 2000
  const rowsPerTransaction = 20_000
  const hash = await argon2.hash(randomToken(), { type: argon2.argon2id, memoryCost: 1024, timeCost: 1 })
  const start = SEED_EPOCH
  // Users offset … offset + count - 1: a later call with another offset adds different users.
  const offset = options.offset ?? 0
  let done = offset
  count += offset
  while (done < count) {
    const end = Math.min(count, done + rowsPerTransaction)
    await db.transaction().execute(async (trx) => {
      for (let from = done; from < end; from += rowsPerInsert) {
        const rows = []
        for (let i = from; i < Math.min(end, from + rowsPerInsert); i++) {
          const { email, username, name } = seededUser(i)
          const at = new Date(start + i * 1000).toISOString()
          rows.push({
            id: newId(),
            email,
            username,
            username_lower: username,
            name,
            password_hash: hash,
            role: 'member',
            is_active: i % 50 === 49 ? 0 : 1,
            is_superuser: 0,
            is_verified: i % 3 === 0 ? 1 : 0,
            is_primary: 0,
            password_changed_at: at,
            created_at: at,
            updated_at: at
          })
        }
        await trx.insertInto('users').values(rows).execute()
      }
    })
    done = end
    options.onProgress?.(done - offset)
  }
  return done - offset
}
