import type { FastifyBaseLogger } from 'fastify'
import type { Mailer } from './mailer.js'

/**
 * Development transport (no SMTP_URL): records that a mail was "sent", never its body. The
 * body holds reset and verification links, which must not reach a log; an operator reads it
 * from the outbox instead (`npm run cli -- outbox show <id>`).
 */
export function createLogMailer (log: FastifyBaseLogger): Mailer {
  return {
    kind: 'log',
    async send (mail) {
      log.info({ mailId: mail.id, to: mail.to, template: mail.template },
        'mail not sent (no SMTP_URL): read it with `npm run cli -- outbox show <id>`')
    },
    async close () {}
  }
}
