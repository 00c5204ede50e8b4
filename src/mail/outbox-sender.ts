import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../config/index.js'
import type { Db } from '../database.js'
import type { Clock } from '../lib/clock.js'
import { newId } from '../lib/crypto.js'
import type { Mailer } from './mailer.js'
import { claimDueMail, deleteFinishedMail, finishMail, outboxStats, releaseClaims, renewClaim, retryMailLater, storeRendered } from './outbox.repository.js'
import type { OutboxRow } from './outbox.table.js'
import type { RenderedMail } from './templates/templates.js'

/**
 * Renders a mail that was queued without a body, inside the transaction that stores the body.
 * `undefined` means there is nothing to send (e.g. a reset asked for an unknown address).
 */
export type DeferredRenderer = (trx: Db, row: OutboxRow) => Promise<RenderedMail | undefined>

export interface OutboxSenderDeps {
  db: Db
  mailer: Mailer
  log: FastifyBaseLogger
  clock: Clock
  config: Config['mail']['outbox']
  renderers: Record<string, DeferredRenderer>
  /**
   * Clean-up jobs run about once an hour by one of the passes (e.g. deleting old tokens), each
   * given the cut-off time before which finished rows may go.
   */
  housekeeping?: Array<(before: string) => Promise<number>>
}

export interface OutboxSender {
  start: () => void
  /** Stops polling and waits for the mail in flight; the process may exit right after. */
  stop: () => Promise<void>
  /** One pass over the due mail; resolves with how many rows it handled. */
  runOnce: () => Promise<number>
}

const BATCH = 20
const HOUSEKEEPING_EVERY_MS = 3_600_000

/** Delay before attempt n+1 after n failed ones: base · 2^(n−1), capped. */
export function backoffMs (attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40))
}

/** SMTP errors describe the exchange, never the body; keep them short anyway. */
function describe (error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.slice(0, 500)
}

/**
 * The background worker that empties the outbox. Every row is claimed atomically with a lease
 * before it is sent, so several instances can run senders side by side and none sends a row
 * another holds; a row whose sender died is released when its lease runs out.
 */
export function createOutboxSender (deps: OutboxSenderDeps): OutboxSender {
  const { db, mailer, log, clock, config, renderers } = deps
  const senderId = newId()
  let timer: NodeJS.Timeout | undefined
  let inFlight: Promise<unknown> | undefined
  let stopped = true

  async function render (row: OutboxRow): Promise<RenderedMail | undefined | 'lost'> {
    if (row.subject !== null && row.text_body !== null && row.html_body !== null) {
      return { subject: row.subject, text: row.text_body, html: row.html_body }
    }
    const renderer = renderers[row.template]
    if (!renderer) throw new Error(`no renderer for template ${row.template}`)
    return db.transaction().execute(async (trx) => {
      const rendered = await renderer(trx, row)
      if (!rendered) return undefined
      // Storing the body under our claim also fixes the one-time token it carries: a retry
      // resends the same mail rather than minting a new token.
      if (!(await storeRendered(trx, row.id, senderId, rendered))) throw new LostClaim()
      return rendered
    }).catch((error: unknown) => {
      if (error instanceof LostClaim) return 'lost' as const
      throw error
    })
  }

  async function deliver (row: OutboxRow): Promise<void> {
    const now = clock.now()
    if (!(await renewClaim(db, row.id, senderId, now.toISOString(), new Date(now.getTime() + config.leaseMs).toISOString()))) return
    try {
      const rendered = await render(row)
      if (rendered === 'lost') return
      if (!rendered) {
        await finishMail(db, row.id, senderId, { status: 'skipped', now: clock.now().toISOString(), purgeBody: true })
        return
      }
      await mailer.send({ id: row.id, template: row.template, to: row.recipient, ...rendered })
      await finishMail(db, row.id, senderId, {
        status: mailer.kind === 'smtp' ? 'sent' : 'logged',
        now: clock.now().toISOString(),
        purgeBody: mailer.kind === 'smtp'
      })
      log.info({ mailId: row.id, template: row.template, attempts: row.attempts }, 'mail delivered')
    } catch (error) {
      const reason = describe(error)
      if (row.attempts >= config.maxAttempts) {
        // The body stays (as it did while pending) so an operator can queue the mail again
        // (`npm run cli -- outbox retry <id>`); its links expire on their own.
        await finishMail(db, row.id, senderId, { status: 'failed', now: clock.now().toISOString(), purgeBody: false, error: reason })
        log.error({ mailId: row.id, template: row.template, attempts: row.attempts, reason }, 'mail delivery failed for good')
        return
      }
      const delay = backoffMs(row.attempts, config.retryBaseMs, config.retryMaxMs)
      const nextAttemptAt = new Date(clock.now().getTime() + delay).toISOString()
      await retryMailLater(db, row.id, senderId, { nextAttemptAt, error: reason })
      log.warn({ mailId: row.id, template: row.template, attempts: row.attempts, retryInMs: delay, reason }, 'mail delivery failed, will retry')
    }
  }

  async function runOnce (): Promise<number> {
    const now = clock.now()
    const rows = await claimDueMail(db, {
      senderId,
      now: now.toISOString(),
      leaseUntil: new Date(now.getTime() + config.leaseMs).toISOString(),
      limit: BATCH
    })
    // One at a time (SMTP servers throttle bursts); each row's lease is renewed just before its
    // delivery, so one slow send cannot let a later row of the batch go to two senders.
    for (const [index, row] of rows.entries()) {
      if (stopped) {
        await releaseClaims(db, rows.slice(index).map((r) => r.id), senderId)
        break
      }
      // A database error here leaves the row claimed; its lease expiring makes it due again.
      await deliver(row).catch((error: unknown) => {
        log.error({ err: error, mailId: row.id }, 'outbox bookkeeping failed')
      })
    }
    return rows.length
  }

  let lastHousekeeping = Number.NEGATIVE_INFINITY
  async function housekeep (): Promise<void> {
    const now = clock.now()
    if (now.getTime() - lastHousekeeping < HOUSEKEEPING_EVERY_MS) return
    const before = new Date(now.getTime() - config.retentionHours * 3_600_000).toISOString()
    let deleted = await deleteFinishedMail(db, before)
    for (const job of deps.housekeeping ?? []) deleted += await job(before)
    // Only a finished clean-up counts: a failed one is tried again on the next pass.
    lastHousekeeping = now.getTime()
    if (deleted > 0) log.info({ deleted }, 'outbox housekeeping')
  }

  let lastDepthLog = 0
  async function logDepth (): Promise<void> {
    const nowMs = clock.now().getTime()
    if (nowMs - lastDepthLog < 60_000) return
    const stats = await outboxStats(db, clock.now())
    if (stats.pending > 0 || stats.failed > 0) {
      lastDepthLog = nowMs
      log.info({ outbox: stats }, 'outbox depth')
    }
  }

  function schedule (delayMs: number): void {
    if (stopped) return
    timer = setTimeout(tick, delayMs)
    // The sender never keeps the process alive on its own: closing the app is enough.
    timer.unref()
  }

  function tick (): void {
    timer = undefined
    const pass = runOnce()
      .then(async (handled) => { await logDepth(); await housekeep(); return handled })
      .catch((error: unknown) => { log.error({ err: error }, 'outbox pass failed'); return 0 })
    inFlight = pass
    pass.then((handled) => {
      inFlight = undefined
      // A full batch means more may be due right away.
      schedule(handled >= BATCH ? 0 : config.pollMs)
    }, () => {})
  }

  return {
    start () {
      if (!stopped) return
      stopped = false
      schedule(0)
    },
    async stop () {
      stopped = true
      if (timer) clearTimeout(timer)
      timer = undefined
      await inFlight
    },
    runOnce
  }
}

class LostClaim extends Error {}
