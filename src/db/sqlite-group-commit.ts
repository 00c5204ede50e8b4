import type SQLite from 'better-sqlite3'

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
    type Call = { args: Args, resolve: (result: Result) => void, reject: (error: unknown) => void }
    let queue: Call[] = []
    // Each call in a savepoint of its own: better-sqlite3 nests a transaction as a savepoint.
    const one = sqlite.transaction((args: Args) => work(statements(), args))
    const all = sqlite.transaction((calls: Call[]) => calls.map((call) => {
      try {
        return { ok: true as const, value: one(call.args) }
      } catch (error) {
        return { ok: false as const, error }
      }
    }))

    function flush (): void {
      const batch = queue
      queue = []
      if (sqlite.inTransaction) {
        for (const call of batch) fallback(call.args).then(call.resolve, call.reject)
        return
      }
      try {
        // IMMEDIATE for the reason Kysely's transactions are (sqlite-connection-wait.ts).
        all.immediate(batch).forEach((outcome, i) => {
          if (outcome.ok) batch[i]!.resolve(outcome.value)
          else batch[i]!.reject(outcome.error)
        })
      } catch (error) {
        // The commit (or the transaction's start) failed: nothing of the batch was written.
        for (const call of batch) call.reject(error)
      }
    }

    return (args) => new Promise<Result>((resolve, reject) => {
      if (queue.push({ args, resolve, reject }) === 1) setImmediate(flush)
    })
  }
}

export type SqliteGroupCommit = ReturnType<typeof sqliteGroupCommit>
