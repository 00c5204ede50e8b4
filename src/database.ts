import type { Kysely } from 'kysely'
import type { AuditEventsTable } from './audit/audit.table.js'
import type { MailOutboxTable } from './mail/outbox.table.js'
import type { OneTimeTokensTable } from './tokens/one-time-tokens.table.js'
import type { RolesTable } from './roles/roles.table.js'
import type { UserCountsTable, UsersTable } from './users/users.table.js'
import type { SessionsTable } from './sessions/sessions.table.js'
import type { SigningKeysTable } from './tokens/signing-keys.table.js'
import type { MfaChallengesTable, MfaRecoveryCodesTable, MfaTotpTable } from './mfa/mfa.table.js'
import type { PasskeysTable, WebauthnChallengesTable } from './mfa/passkeys.table.js'

export interface Database {
  users: UsersTable
  roles: RolesTable
  sessions: SessionsTable
  signing_keys: SigningKeysTable
  audit_events: AuditEventsTable
  user_counts: UserCountsTable
  mail_outbox: MailOutboxTable
  one_time_tokens: OneTimeTokensTable
  mfa_totp: MfaTotpTable
  mfa_recovery_codes: MfaRecoveryCodesTable
  mfa_challenges: MfaChallengesTable
  passkeys: PasskeysTable
  webauthn_challenges: WebauthnChallengesTable
}

export type Db = Kysely<Database>
export type Dialect = 'sqlite' | 'postgres'
