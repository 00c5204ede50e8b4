import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createDb } from '../../src/db/create-db.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { newId } from '../../src/lib/crypto.js'
import { claimDueMail, enqueueMail } from '../../src/mail/outbox.repository.js'
import { createTestDatabaseUrl, usePostgres } from '../helpers/test-db.js'

test('concurrent claims from several connections never hand one row to two senders', async (t) => {
  const databaseUrl = await createTestDatabaseUrl(t)
  // On PostgreSQL each sender gets its own pool (as separate instances would); SQLite is one
  // process's database, so there the senders share its one connection.
  const handles = Array.from({ length: usePostgres ? 6 : 1 }, () => createDb(databaseUrl))
  t.after(() => Promise.all(handles.map((h) => h.close())))
  await migrateToLatest(handles[0]!.db)

  for (let round = 0; round < 5; round++) {
    const now = new Date()
    const ids = Array.from({ length: 60 }, () => newId())
    for (const id of ids) {
      await enqueueMail(handles[0]!.db, { id, template: 'welcome', recipient: 'a@example.com', rendered: { subject: 's', text: 't', html: 'h' }, now: now.toISOString() })
    }
    const senders = Array.from({ length: 12 }, (_, i) => ({ id: newId(), db: handles[i % handles.length]!.db }))
    const claimed = await Promise.all(senders.map(async (sender) => {
      const mine: string[] = []
      // Claim until nothing is left unclaimed: a sender that loses a race simply gets fewer rows.
      for (;;) {
        const rows = await claimDueMail(sender.db, {
          senderId: sender.id,
          now: new Date(now.getTime() + 1).toISOString(),
          leaseUntil: new Date(now.getTime() + 60_000).toISOString(),
          limit: 7
        })
        mine.push(...rows.map((r) => r.id))
        const left = await sender.db.selectFrom('mail_outbox').select('id').where('status', '=', 'pending').where('claimed_by', 'is', null).execute()
        if (rows.length === 0 && left.length === 0) return mine
      }
    }))
    const all = claimed.flat()
    assert.equal(new Set(all).size, all.length, `round ${round}: a row was claimed twice`)
    assert.equal(all.length, 60, 'every due row is claimed once')
    const rows = await handles[0]!.db.selectFrom('mail_outbox').select(['id', 'claimed_by', 'attempts']).where('status', '=', 'pending').execute()
    for (const row of rows) {
      assert.equal(row.attempts, 1)
      assert.ok(claimed[senders.findIndex((s) => s.id === row.claimed_by)]!.includes(row.id), 'the claim recorded is the one returned')
    }
    // Claimed rows are not due again while their lease runs.
    await handles[0]!.db.updateTable('mail_outbox').set({ status: 'sent' }).execute()
  }
})
