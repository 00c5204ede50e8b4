export interface AuditEventsTable {
  id: string
  /** e.g. `signin.success`, `signin.failure`, `admin.user.update` */
  type: string
  /** Who acted (an admin, or the user themself); null for anonymous attempts. */
  actor_id: string | null
  /** Whom it concerns; null when no account matched (e.g. sign-in with an unknown email). */
  user_id: string | null
  ip: string | null
  user_agent: string | null
  /** JSON object with event-specific facts; never a password, hash or token. */
  details: string | null
  created_at: string | Date
}

export type AuditEventRow = AuditEventsTable
