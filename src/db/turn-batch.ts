/**
 * Collects the calls made in one turn of the event loop and runs them together at its end
 * (setImmediate), as one call of `run` with all their arguments in order. `run` answers one
 * result per argument, in the same order; if it throws, every call of the batch fails with
 * that error. A lone call waits no longer than the end of its turn.
 */
export function batchPerTurn<Args, Result> (run: (batch: Args[]) => Promise<Result[]>): (args: Args) => Promise<Result> {
  type Call = { args: Args, resolve: (result: Result) => void, reject: (error: unknown) => void }
  let queue: Call[] = []

  function flush (): void {
    const batch = queue
    queue = []
    run(batch.map((call) => call.args)).then((results) => {
      batch.forEach((call, i) => { call.resolve(results[i]!) })
    }, (error: unknown) => {
      for (const call of batch) call.reject(error)
    })
  }

  return (args) => new Promise<Result>((resolve, reject) => {
    if (queue.push({ args, resolve, reject }) === 1) setImmediate(flush)
  })
}
