import { type ExpressionBuilder, PostgresAdapter, sql } from 'kysely'
import type { Database, Db } from '../database.js'
import type { OutboxRow, OutboxStatus } from './outbox.table.js'
import type { RenderedMail } from './templates/templates.js'

export interface NewOutboxMail {
  id: string
  template: string
  recipient: string
  /** Omitted for mail rendered at delivery time (see the sender's renderers). */
  rendered?: RenderedMail
  now: string
}

/** Call with the transaction of the action that causes the mail: both commit or neither. */
export async function enqueueMail (db: Db, mail: NewOutboxMail): Promise<void> {
  await db.insertInto('mail_outbox').values({
    id: mail.id,
    template: mail.template,
    recipient: mail.recipient,
    subject: mail.rendered?.subject ?? null,
    text_body: mail.rendered?.text ?? null,
    html_body: mail.rendered?.html ?? null,
    status: 'pending',
    attempts: 0,
    next_attempt_at: mail.now,
    claimed_by: null,
    claimed_until: null,
    last_error: null,
    created_at: mail.now,
    sent_at: null
  }).execute()
}

function due (now: string) {
  return (eb: ExpressionBuilder<Database, 'mail_outbox'>) => eb.and([
    eb('status', '=', 'pending'),
    eb('next_attempt_at', '<=', now),
    eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)])
  ])
}

/**
 * Claims up to `limit` due rows for one sender in a single UPDATE. The due condition is
 * repeated on the outer statement: PostgreSQL re-checks it on the row it finally updates, so
 * when two senders race for a row the second sees the first's lease and skips it; SQLite
 * runs the statement alone. Either way a row is claimed by one sender at a time.
 */
export function claimDueMail (db: Db, args: { senderId: string, now: string, leaseUntil: string, limit: number }): Promise<OutboxRow[]> {
  let candidates = db.selectFrom('mail_outbox').select('id').where(due(args.now)).orderBy('created_at').orderBy('id').limit(args.limit)
  // PostgreSQL only (SQLite has no row locks): concurrent senders pick different rows instead
  // of queueing behind each other's locks and then finding them taken.
  if (db.getExecutor().adapter instanceof PostgresAdapter) candidates = candidates.forUpdate().skipLocked()
  return db.updateTable('mail_outbox')
    .set({ claimed_by: args.senderId, claimed_until: args.leaseUntil, attempts: sql<number>`attempts + 1` })
    .where('id', 'in', candidates)
    .where(due(args.now))
    .returningAll()
    .execute()
}

/**
 * Extends this sender's lease right before a delivery, if it still holds it: a row that waited
 * in a batch behind a slow server may have been released to another sender meanwhile.
 */
export async function renewClaim (db: Db, id: string, senderId: string, now: string, leaseUntil: string): Promise<boolean> {
  const result = await db.updateTable('mail_outbox')
    .set({ claimed_until: leaseUntil })
    .where('id', '=', id).where('claimed_by', '=', senderId).where('status', '=', 'pending').where('claimed_until', '>', now)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/** Gives claimed rows back untried (the sender is stopping), due at once for any sender. */
export async function releaseClaims (db: Db, ids: string[], senderId: string): Promise<void> {
  if (ids.length === 0) return
  await db.updateTable('mail_outbox')
    .set({ claimed_by: null, claimed_until: null, attempts: sql<number>`attempts - 1` })
    .where('id', 'in', ids).where('claimed_by', '=', senderId).where('status', '=', 'pending')
    .execute()
}

/** Stores a body rendered at delivery time; false when this sender no longer holds the row. */
export async function storeRendered (db: Db, id: string, senderId: string, rendered: RenderedMail): Promise<boolean> {
  const result = await db.updateTable('mail_outbox')
    .set({ subject: rendered.subject, text_body: rendered.text, html_body: rendered.html })
    .where('id', '=', id).where('claimed_by', '=', senderId).where('status', '=', 'pending')
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/** Final state of a row. `purgeBody` drops the rendered mail, which may hold a live link. */
export async function finishMail (db: Db, id: string, senderId: string, args: { status: Exclude<OutboxStatus, 'pending'>, now: string, purgeBody: boolean, error?: string }): Promise<void> {
  await db.updateTable('mail_outbox')
    .set({
      status: args.status,
      sent_at: args.status === 'failed' ? null : args.now,
      claimed_by: null,
      claimed_until: null,
      ...(args.error !== undefined ? { last_error: args.error } : {}),
      ...(args.purgeBody ? { subject: null, text_body: null, html_body: null } : {})
    })
    .where('id', '=', id).where('claimed_by', '=', senderId)
    .execute()
}

/** Releases a row after a failed attempt, due again at `nextAttemptAt`. */
export async function retryMailLater (db: Db, id: string, senderId: string, args: { nextAttemptAt: string, error: string }): Promise<void> {
  await db.updateTable('mail_outbox')
    .set({ next_attempt_at: args.nextAttemptAt, claimed_by: null, claimed_until: null, last_error: args.error })
    .where('id', '=', id).where('claimed_by', '=', senderId)
    .execute()
}

/** Deletes delivered, logged and skipped mail finished before `before`; pending and failed rows stay. */
export async function deleteFinishedMail (db: Db, before: string): Promise<number> {
  const result = await db.deleteFrom('mail_outbox')
    .where('status', 'in', ['sent', 'logged', 'skipped']).where('sent_at', '<', before)
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}

/** An operator's second chance for a mail the sender gave up on. */
export async function requeueFailedMail (db: Db, id: string, now: string): Promise<boolean> {
  const result = await db.updateTable('mail_outbox')
    .set({ status: 'pending', attempts: 0, next_attempt_at: now, last_error: null })
    .where('id', '=', id).where('status', '=', 'failed')
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

export interface OutboxStats {
  /** Mails waiting for delivery (due now or backing off). */
  pending: number
  /** Mails the sender gave up on after the last attempt. */
  failed: number
  /** Age of the oldest pending mail, 0 when none. */
  oldestPendingSeconds: number
}

/** Outbox depth and failures, for logs and a metrics endpoint. */
export async function outboxStats (db: Db, now: Date = new Date()): Promise<OutboxStats> {
  const rows = await db.selectFrom('mail_outbox')
    .select((eb) => ['status', eb.fn.countAll<number>().as('count'), eb.fn.min('created_at').as('oldest')])
    .where('status', 'in', ['pending', 'failed'])
    .groupBy('status')
    .execute()
  const pending = rows.find((r) => r.status === 'pending')
  const failed = rows.find((r) => r.status === 'failed')
  const oldest = pending?.oldest ? new Date(pending.oldest).getTime() : undefined
  return {
    pending: Number(pending?.count ?? 0),
    failed: Number(failed?.count ?? 0),
    oldestPendingSeconds: oldest === undefined ? 0 : Math.max(0, Math.round((now.getTime() - oldest) / 1000))
  }
}

export function listOutbox (db: Db, limit: number): Promise<Array<Pick<OutboxRow, 'id' | 'template' | 'recipient' | 'status' | 'attempts' | 'created_at' | 'sent_at' | 'last_error'>>> {
  return db.selectFrom('mail_outbox')
    .select(['id', 'template', 'recipient', 'status', 'attempts', 'created_at', 'sent_at', 'last_error'])
    .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute()
}

export function findOutboxMail (db: Db, id: string): Promise<OutboxRow | undefined> {
  return db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirst()
}
