import type { Kysely } from 'kysely'
import type { AuditEventsTable } from '../audit/audit.table.js'
import type { RolesTable, UserCountsTable, UsersTable } from '../users/users.table.js'
import type { SessionsTable } from '../sessions/sessions.table.js'
import type { SigningKeysTable } from '../tokens/signing-keys.table.js'

export interface Database {
  users: UsersTable
  roles: RolesTable
  sessions: SessionsTable
  signing_keys: SigningKeysTable
  audit_events: AuditEventsTable
  user_counts: UserCountsTable
}

export type Db = Kysely<Database>
export type Dialect = 'sqlite' | 'postgres'
