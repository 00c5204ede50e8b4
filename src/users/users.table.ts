import type { Generated } from 'kysely'

/**
 * Flags are 0/1 integers and times ISO-8601 strings on SQLite (PostgreSQL returns its
 * timestamptz as Date): `users.mapper.ts` turns both into the API's shapes.
 */
export interface UsersTable {
  id: string
  /** Trimmed and lower-cased; unique. */
  email: string
  username: string
  /** Lower-cased copy of username, carrying the case-insensitive unique index. */
  username_lower: string
  name: string | null
  password_hash: string
  role: string
  is_active: number
  is_superuser: number
  is_verified: number
  is_primary: number
  /** 1 once a TOTP factor is confirmed (migration 0007); kept by the MFA service. */
  mfa_enabled?: number
  password_changed_at: string | Date
  created_at: string | Date
  updated_at: string | Date
}

/** Users per is_active value, kept by triggers (migration 0004) so `total` costs no scan. */
export interface UserCountsTable {
  is_active: number
  count: number | string
}

export type UserRow = UsersTable
export type { Generated }
