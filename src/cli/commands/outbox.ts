import { Errors } from '../../http/errors.js'
import { toIso } from '../../lib/clock.js'
import { findOutboxMail, listOutbox, outboxStats, requeueFailedMail } from '../../mail/outbox.repository.js'
import { integerOption, noArgs, oneArg } from '../args.js'
import { defineCommand, type GroupSpec } from '../command.js'

/**
 * `outbox …`: the operator's view of the mail outbox. Without SMTP_URL this is how a developer
 * reads the reset or verification link that the log deliberately leaves out.
 */
export const outboxGroup: GroupSpec = {
  summary: 'the mail outbox (read links in dev mode, retry failed mail)',
  commands: {
    list: defineCommand({
      synopsis: '[--limit N]',
      summary: 'the latest mails (default 20): id, status, template, recipient, attempts',
      options: { limit: { type: 'string' } },
      parse: (input) => {
        noArgs(input, 'outbox list', '; use --limit N')
        return integerOption(input, 'limit', { fallback: 20, min: 1, max: 1000 })
      },
      run: async (ctx, limit) => {
        const items = (await listOutbox(ctx.db, limit)).map((row) => ({
          id: row.id,
          status: row.status,
          template: row.template,
          recipient: row.recipient,
          attempts: row.attempts,
          created_at: toIso(row.created_at),
          sent_at: row.sent_at === null ? null : toIso(row.sent_at),
          last_error: row.last_error
        }))
        const text = items.map((row) => [row.id, row.status.padEnd(7), row.template.padEnd(16), row.recipient, `attempts=${row.attempts}`, row.created_at]
          .join('  ') + (row.last_error ? `  last_error=${JSON.stringify(row.last_error)}` : ''))
        return { json: { items }, text: items.length > 0 ? text.join('\n') : 'The outbox is empty' }
      }
    }),
    show: defineCommand({
      synopsis: '<id>',
      summary: 'one mail with its text body (kept until delivered over SMTP; always kept without SMTP_URL)',
      parse: (input) => oneArg(input, 'outbox show', 'mail id'),
      run: async (ctx, id) => {
        const row = await findOutboxMail(ctx.db, id)
        if (!row) throw Errors.notFound(`No mail with id ${id}`)
        const mail = {
          id: row.id,
          recipient: row.recipient,
          template: row.template,
          status: row.status,
          attempts: row.attempts,
          created_at: toIso(row.created_at),
          sent_at: row.sent_at === null ? null : toIso(row.sent_at),
          last_error: row.last_error,
          subject: row.subject,
          text_body: row.text_body
        }
        const body = row.text_body !== null
          ? `\n${row.text_body.replace(/\n$/, '')}`
          : row.status === 'pending' ? '\n(rendered when it is sent)' : '\n(body no longer kept: it was delivered over SMTP, or there was nothing to send)'
        const text = `Id:        ${mail.id}\nTo:        ${mail.recipient}\nTemplate:  ${mail.template}\nStatus:    ${mail.status}\nAttempts:  ${mail.attempts}\nCreated:   ${mail.created_at}` +
          (mail.subject !== null ? `\nSubject:   ${mail.subject}` : '') + `\n${body}`
        return { json: mail, text }
      }
    }),
    stats: defineCommand({
      synopsis: '',
      summary: 'outbox depth and failures',
      parse: (input) => noArgs(input, 'outbox stats'),
      run: async (ctx) => {
        const stats = await outboxStats(ctx.db)
        return {
          json: { pending: stats.pending, failed: stats.failed, oldest_pending_seconds: stats.oldestPendingSeconds },
          text: `pending=${stats.pending} failed=${stats.failed} oldest_pending_seconds=${stats.oldestPendingSeconds}`
        }
      }
    }),
    retry: defineCommand({
      synopsis: '<id>',
      summary: 'queue a mail that was given up on (failed) again',
      parse: (input) => oneArg(input, 'outbox retry', 'mail id'),
      run: async (ctx, id) => {
        if (!(await requeueFailedMail(ctx.db, id, ctx.clock.now().toISOString()))) throw Errors.notFound(`No failed mail with id ${id}`)
        return { json: { id, status: 'pending' }, text: `Queued ${id} again` }
      }
    })
  }
}
