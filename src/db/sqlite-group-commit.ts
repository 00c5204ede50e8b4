import type SQLite from 'better-sqlite3'
import { batchPerTurn, type CallOutcome } from './turn-batch.js'

/** One unit of work: its statements (prepared once, in the order given) and its arguments. */
export type GroupCommitWork<Args, Result> = (statements: SQLite.Statement[], args: Args) => Result

/**
 * A write of a hot path on SQLite, committed together with the same writes of other requests
 * (group commit). A commit is the largest cost of a small write here: the WAL frames, the
 * wal-index and its locks, paid once per transaction whatever it holds. Calls made in the
 * same event-loop turn (the requests read from the sockets in one poll) are queued, and run
 * at the end of the turn in one transaction, each in a savepoint of its own: one that throws
 * is rolled back alone and rejects alone, and the rest commit. A failed commit rejects them
 * all, and none of them is answered as done.
 *
 * The batch runs synchronously on better-sqlite3, which is safe when Kysely has no
 * transaction open on the one connection: a statement between two of Kysely's queries is
 * one more query, but inside its open transaction it would be rolled back with it. When one
 * is open, each call goes through `fallback` (Kysely queues it behind that transaction).
 */
export function sqliteGroupCommit (sqlite: SQLite.Database) {
  return function prepare<Args, Result> (sqls: readonly string[], work: GroupCommitWork<Args, Result>, fallback: (args: Args) => Promise<Result>): (args: Args) => Promise<Result> {
    // Prepared on first use: the tables exist only once the migrations have run.
    let prepared: SQLite.Statement[] | undefined
    const statements = (): SQLite.Statement[] => (prepared ??= sqls.map((sql) => sqlite.prepare(sql)))
    // Each call in a savepoint of its own: better-sqlite3 nests a transaction as a savepoint.
    const one = sqlite.transaction((args: Args) => work(statements(), args))
    // IMMEDIATE for the reason Kysely's transactions are (sqlite-connection-wait.ts).
    const all = sqlite.transaction((batch: Args[]) => batch.map((args): CallOutcome<Result> => {
      try {
        return { status: 'fulfilled', value: one(args) }
      } catch (error) {
        return { status: 'rejected', reason: error }
      }
    })).immediate
    // Synchronous up to its return: the batch's transaction runs and commits before any
    // other code, and a failed commit (or start) rejects the whole batch.
    return batchPerTurn<Args, Result>(async (batch) =>
      sqlite.inTransaction ? Promise.allSettled(batch.map(fallback)) : all(batch))
  }
}

export type SqliteGroupCommit = ReturnType<typeof sqliteGroupCommit>
