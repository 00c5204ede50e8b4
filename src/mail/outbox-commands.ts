import type { Db } from '../database.js'
import { toIso } from '../lib/clock.js'
import { findOutboxMail, listOutbox, outboxStats, requeueFailedMail } from './outbox.repository.js'

export const OUTBOX_USAGE = `Usage: npm run outbox -- <command>
  list [limit]   the latest mails (default 20): id, status, template, recipient, attempts
  show <id>      one mail with its text body (kept until delivered over SMTP; always kept without SMTP_URL)
  stats          outbox depth and failures
  retry <id>     queue a failed mail again
`

/**
 * The operator's view of the outbox. Without SMTP_URL this is how a developer reads the
 * reset or verification link that the log deliberately leaves out.
 */
export async function runOutboxCommand (db: Db, args: readonly string[], out: (text: string) => void): Promise<number> {
  const [command, argument] = args
  if (command === 'list') {
    const limit = argument === undefined ? 20 : Number(argument)
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      out('limit must be a whole number from 1 to 1000\n')
      return 2
    }
    const rows = await listOutbox(db, limit)
    if (rows.length === 0) out('The outbox is empty\n')
    for (const row of rows) {
      out([row.id, row.status.padEnd(7), row.template.padEnd(16), row.recipient, `attempts=${row.attempts}`, toIso(row.created_at)]
        .join('  ') + (row.last_error ? `  last_error=${JSON.stringify(row.last_error)}` : '') + '\n')
    }
    return 0
  }
  if (command === 'show' && argument) {
    const row = await findOutboxMail(db, argument)
    if (!row) {
      out(`No mail with id ${argument}\n`)
      return 1
    }
    out(`Id:        ${row.id}\nTo:        ${row.recipient}\nTemplate:  ${row.template}\nStatus:    ${row.status}\nAttempts:  ${row.attempts}\nCreated:   ${toIso(row.created_at)}\n`)
    if (row.subject !== null) out(`Subject:   ${row.subject}\n`)
    if (row.text_body !== null) out(`\n${row.text_body}`)
    else if (row.status === 'pending') out('\n(rendered when it is sent)\n')
    else out('\n(body no longer kept: it was delivered over SMTP, or there was nothing to send)\n')
    return 0
  }
  if (command === 'stats') {
    const stats = await outboxStats(db)
    out(`pending=${stats.pending} failed=${stats.failed} oldest_pending_seconds=${stats.oldestPendingSeconds}\n`)
    return 0
  }
  if (command === 'retry' && argument) {
    const requeued = await requeueFailedMail(db, argument, new Date().toISOString())
    if (!requeued) {
      out(`No failed mail with id ${argument}\n`)
      return 1
    }
    out(`Queued ${argument} again\n`)
    return 0
  }
  out(OUTBOX_USAGE)
  return 2
}
