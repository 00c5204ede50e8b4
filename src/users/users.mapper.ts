import { toIso } from '../lib/clock.js'
import type { UserDto } from './users.schemas.js'
import type { UserRow } from './users.table.js'

/** The public user object: never the hash, never a token. */
export function toUser (row: UserRow): UserDto {
  return {
    id: row.id,
    email: row.email,
    username: row.username,
    name: row.name,
    role: row.role,
    is_active: row.is_active === 1,
    is_superuser: row.is_superuser === 1,
    is_verified: row.is_verified === 1,
    mfa_enabled: row.mfa_enabled === 1,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at)
  }
}
