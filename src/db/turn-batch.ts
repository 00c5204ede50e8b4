/** One call's outcome, in `Promise.allSettled`'s shape: a batch can fail some calls alone. */
export type CallOutcome<Result> = PromiseSettledResult<Result>

/**
 * Collects the calls made in one turn of the event loop (the requests read from the sockets
 * in one poll) and runs them together at its end (setImmediate), as one call of `run` with
 * all their arguments in order. `run` answers one outcome per argument, in the same order;
 * if it throws, every call of the batch fails with that error. A lone call waits no longer
 * than the end of its turn.
 */
export function batchPerTurn<Args, Result> (run: (batch: Args[]) => Promise<Array<CallOutcome<Result>>>): (args: Args) => Promise<Result> {
  type Call = { args: Args, resolve: (result: Result) => void, reject: (error: unknown) => void }
  let queue: Call[] = []

  function flush (): void {
    const batch = queue
    queue = []
    run(batch.map((call) => call.args)).then((outcomes) => {
      batch.forEach((call, i) => {
        const outcome = outcomes[i]!
        if (outcome.status === 'fulfilled') call.resolve(outcome.value)
        else call.reject(outcome.reason)
      })
    }, (error: unknown) => {
      for (const call of batch) call.reject(error)
    })
  }

  return (args) => new Promise<Result>((resolve, reject) => {
    if (queue.push({ args, resolve, reject }) === 1) setImmediate(flush)
  })
}

/** Every call of the batch succeeded with these results. */
export function fulfilled<Result> (results: Result[]): Array<CallOutcome<Result>> {
  return results.map((value) => ({ status: 'fulfilled', value }))
}
