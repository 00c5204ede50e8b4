import nodemailer from 'nodemailer'
import type { Mailer } from './mailer.js'

export interface SmtpMailerOptions {
  /** smtp://user:pass@host:port (STARTTLS when the server offers it) or smtps:// (TLS from the start). */
  url: string
  from: string
}

/**
 * nodemailer over SMTP_URL; credentials come from the URL. Timeouts stay well below the
 * outbox lease, so a hung server fails the attempt before another sender may claim the row.
 */
export function createSmtpMailer (options: SmtpMailerOptions): Mailer {
  const transport = nodemailer.createTransport({
    url: options.url,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000
  })
  const domain = /@([^>\s]+)>?$/.exec(options.from)?.[1] ?? 'localhost'
  return {
    kind: 'smtp',
    async send (mail) {
      await transport.sendMail({
        from: options.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: `<${mail.id}@${domain}>`,
        headers: { 'X-Mail-Template': mail.template }
      })
    },
    async close () {
      transport.close()
    }
  }
}
