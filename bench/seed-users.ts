import type { Kysely } from 'kysely'
import type { Database } from '../src/db/database.js'
import { newId } from '../src/lib/crypto.js'

/**
 * Bulk-inserts `count` users (`seed-<n>@example.com`, `seed_<n>`) for the admin search
 * scenario, in multi-row inserts inside transactions. They share one argon2 hash of a password
 * nobody knows: they are data to search, not accounts to sign in with.
 */
export async function seedUsers (db: Kysely<Database>, count: number): Promise<void> {
  const hash = '$argon2id$v=19$m=19456,t=2,p=1$c2VlZHNlZWRzZWVkc2VlZA$0A2cOYjI8jzIDSBuV5i8yZ0uYxCw4P1pxh4yi0Fx0kQ'
  const batch = 1000
  const start = Date.UTC(2024, 0, 1)
  for (let offset = 0; offset < count; offset += batch * 20) {
    await db.transaction().execute(async (trx) => {
      for (let first = offset; first < Math.min(offset + batch * 20, count); first += batch) {
        const rows = []
        for (let n = first; n < Math.min(first + batch, count); n++) {
          const at = new Date(start + n * 1000).toISOString()
          rows.push({
            id: newId(),
            email: `seed-${n}@example.com`,
            username: `seed_${n}`,
            username_lower: `seed_${n}`,
            name: `Seed User ${n}`,
            password_hash: hash,
            role: 'member',
            is_active: 1,
            is_superuser: 0,
            is_verified: 0,
            is_primary: 0,
            password_changed_at: at,
            created_at: at,
            updated_at: at
          })
        }
        await trx.insertInto('users').values(rows).execute()
      }
    })
  }
}
