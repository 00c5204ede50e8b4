/** Times are ISO-8601 text on SQLite and timestamptz (Date) on PostgreSQL. */
export interface MailOutboxTable {
  id: string
  template: string
  recipient: string
  subject: string | null
  text_body: string | null
  html_body: string | null
  status: OutboxStatus
  attempts: number
  next_attempt_at: string | Date
  claimed_by: string | null
  claimed_until: string | Date | null
  last_error: string | null
  created_at: string | Date
  sent_at: string | Date | null
}

export type OutboxStatus = 'pending' | 'sent' | 'logged' | 'skipped' | 'failed'
export type OutboxRow = MailOutboxTable
