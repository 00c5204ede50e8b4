import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { SMTPServer } from 'smtp-server'

export interface ReceivedMail {
  /** Envelope recipients (RCPT TO). */
  to: string[]
  from: string
  /** Lower-cased header names; folded lines joined. */
  headers: Record<string, string>
  text: string
  html: string
  raw: string
  /** Whether the session ran over TLS (STARTTLS or implicit). */
  secure: boolean
}

export interface TestSmtpServer {
  port: number
  url: string
  received: ReceivedMail[]
  /** Stops accepting connections (an outage); `start()` listens again on the same port. */
  stop: () => Promise<void>
  start: () => Promise<void>
  /** Resolves once `count` mails arrived in total, polling; rejects after `timeoutMs`. */
  waitForCount: (count: number, timeoutMs?: number) => Promise<ReceivedMail[]>
  /** Resolves with the mails to `to` with this subject once there are `count` of them. */
  waitForMail: (to: string, subject: string, count?: number) => Promise<ReceivedMail[]>
}

export const SMTP_USER = 'mailer'
export const SMTP_PASS = 'smtp secret 123'

function decodePart (body: string, encoding: string | undefined): string {
  if (encoding?.toLowerCase() === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
  if (encoding?.toLowerCase() === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    return Buffer.from(bytes, 'latin1').toString('utf8')
  }
  return body
}

function splitHeaders (raw: string): { headers: Record<string, string>, body: string } {
  const index = raw.indexOf('\r\n\r\n')
  const head = index === -1 ? raw : raw.slice(0, index)
  const body = index === -1 ? '' : raw.slice(index + 4)
  const headers: Record<string, string> = {}
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { headers, body }
}

/** A small MIME reader for what nodemailer sends: one text part and one HTML part. */
export function parseMail (raw: string, envelope: { from: string, to: string[], secure: boolean }): ReceivedMail {
  const { headers, body } = splitHeaders(raw)
  let text = ''
  let html = ''
  const visit = (partHeaders: Record<string, string>, partBody: string): void => {
    const type = partHeaders['content-type'] ?? 'text/plain'
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1]
    if (boundary) {
      for (const chunk of partBody.split(`--${boundary}`).slice(1)) {
        if (chunk.startsWith('--')) break
        const inner = splitHeaders(chunk.replace(/^\r\n/, ''))
        visit(inner.headers, inner.body)
      }
      return
    }
    const decoded = decodePart(partBody, partHeaders['content-transfer-encoding'])
    if (type.startsWith('text/html')) html += decoded
    else if (type.startsWith('text/plain')) text += decoded
  }
  visit(headers, body)
  return { ...envelope, headers, text, html, raw }
}

/**
 * A real SMTP server on 127.0.0.1 (random port) requiring the credentials in its URL.
 * `tls: 'none'` (default) offers no STARTTLS; 'starttls' offers it and refuses AUTH before it;
 * 'implicit' speaks TLS from the first byte (smtps://). TLS uses smtp-server's self-signed
 * localhost certificate, so those URLs carry `tls.rejectUnauthorized=false`.
 */
export async function startSmtpServer (t: Pick<TestContext, 'after'>, options: { tls?: 'none' | 'starttls' | 'implicit' } = {}): Promise<TestSmtpServer> {
  const tls = options.tls ?? 'none'
  const received: ReceivedMail[] = []
  let port = 0
  let server: SMTPServer | undefined

  const create = (): SMTPServer => new SMTPServer({
    disabledCommands: tls === 'none' ? ['STARTTLS'] : [],
    allowInsecureAuth: tls === 'none',
    secure: tls === 'implicit',
    logger: false,
    onAuth (auth, _session, callback) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASS) return callback(null, { user: auth.username })
      return callback(new Error('Invalid username or password'))
    },
    onData (stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        received.push(parseMail(Buffer.concat(chunks).toString('utf8'), {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          secure: session.secure
        }))
        callback()
      })
    }
  })

  const start = async (): Promise<void> => {
    server = create()
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject)
      server!.listen(port, '127.0.0.1', () => resolve())
    })
    port = (server.server.address() as AddressInfo).port
  }
  const stop = async (): Promise<void> => {
    const current = server
    server = undefined
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()))
  }
  await start()
  t.after(stop)

  return {
    get port () { return port },
    get url () {
      const scheme = tls === 'implicit' ? 'smtps' : 'smtp'
      const query = tls === 'none' ? '' : '?tls.rejectUnauthorized=false'
      return `${scheme}://${SMTP_USER}:${encodeURIComponent(SMTP_PASS)}@127.0.0.1:${port}${query}`
    },
    received,
    stop,
    start,
    async waitForCount (count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} mails, got ${received.length}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      return received
    },
    async waitForMail (to, subject, count = 1) {
      const matching = (): ReceivedMail[] => received.filter((m) => m.to.includes(to) && m.headers.subject === subject)
      const deadline = Date.now() + 10_000
      while (matching().length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} mail(s) "${subject}" to ${to}, got ${matching().length}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      return matching()
    }
  }
}

/** The token of the first `{PUBLIC_URL}/<page>?token=…` link in a mail's text. */
export function tokenFrom (mail: ReceivedMail, page: 'reset-password' | 'verify-email'): string {
  const match = new RegExp(`/${page}\\?token=([A-Za-z0-9_-]+)`).exec(mail.text)
  if (!match) throw new Error(`no ${page} link in mail: ${mail.text}`)
  return match[1]!
}

/** Environment for an app that delivers to `smtp` and retries fast (tests wait, never sleep long). */
export function mailEnv (smtp: Pick<TestSmtpServer, 'url'>): Record<string, string> {
  return {
    SMTP_URL: smtp.url,
    MAIL_FROM: 'Auth Service <no-reply@auth.example.test>',
    OUTBOX_POLL_MS: '20',
    OUTBOX_RETRY_BASE_MS: '20',
    OUTBOX_RETRY_MAX_MS: '200',
    OUTBOX_MAX_ATTEMPTS: '1000'
  }
}

/** Collects the app's log lines, to assert that no secret reaches them. */
export function captureLog (): { stream: { write: (line: string) => void }, text: () => string } {
  const lines: string[] = []
  return { stream: { write: (line: string) => { lines.push(line) } }, text: () => lines.join('') }
}
