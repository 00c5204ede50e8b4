import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import SQLite from 'better-sqlite3'
import { sqliteGroupCommit } from '../../src/db/sqlite-group-commit.js'

function database (): { path: string, sqlite: SQLite.Database, done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'authd-group-commit-'))
  const path = join(dir, 'test.db')
  const sqlite = new SQLite(path)
  sqlite.pragma('journal_mode = WAL')
  sqlite.exec('create table items (name text primary key)')
  return { path, sqlite, done: () => { sqlite.close(); rmSync(dir, { recursive: true, force: true }) } }
}

test('group commit: the calls of one event-loop turn share one transaction, and all commit', async (t) => {
  const { path, sqlite, done } = database()
  t.after(done)
  const reader = new SQLite(path, { readonly: true })
  t.after(() => reader.close())
  const committedElsewhere = reader.prepare('select count(*) from items').pluck()
  const seen: number[] = []
  const insert = sqliteGroupCommit(sqlite)<string, string>(['insert into items (name) values (?)'], ([statement], name) => {
    // What another connection sees while this call runs: the calls before it in the batch are
    // written but not committed.
    seen.push(committedElsewhere.get() as number)
    statement!.run(name)
    return name
  }, () => Promise.reject(new Error('no Kysely transaction is open here')))
  const names = ['a', 'b', 'c', 'd']
  assert.deepEqual(await Promise.all(names.map(insert)), names)
  assert.deepEqual(seen, [0, 0, 0, 0], 'one commit for the four')
  assert.equal(committedElsewhere.get(), 4)
  // A later turn is a transaction of its own.
  await insert('e')
  assert.deepEqual(seen, [0, 0, 0, 0, 4])
})

test('group commit: a call that throws is rolled back and rejected alone', async (t) => {
  const { sqlite, done } = database()
  t.after(done)
  const insert = sqliteGroupCommit(sqlite)<string, string>(['insert into items (name) values (?)'], ([statement], name) => {
    statement!.run(name)
    if (name === 'bad') throw new Error('refused after writing')
    return name
  }, () => Promise.reject(new Error('unused')))
  const outcomes = await Promise.allSettled(['a', 'bad', 'a', 'c'].map(insert))
  assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled'])
  assert.match(String((outcomes[2] as PromiseRejectedResult).reason), /UNIQUE/, 'a constraint failure is its own call\'s error')
  assert.deepEqual(sqlite.prepare('select name from items order by name').pluck().all(), ['a', 'c'])
})

test('group commit: inside an open transaction of the connection, calls take the fallback', async (t) => {
  const { sqlite, done } = database()
  t.after(done)
  const fallbacks: string[] = []
  const insert = sqliteGroupCommit(sqlite)<string, string>(['insert into items (name) values (?)'], ([statement], name) => {
    statement!.run(name)
    return name
  }, async (name) => { fallbacks.push(name); return `${name} via fallback` })
  sqlite.exec('begin')
  const pending = insert('x')
  await new Promise((resolve) => setImmediate(resolve))
  sqlite.exec('rollback')
  assert.equal(await pending, 'x via fallback')
  assert.deepEqual(fallbacks, ['x'])
})
