/** Thrown at once, without running the task, when `maxWaiting` tasks already wait. */
export class QueueFullError extends Error {
  constructor () {
    super('queue full')
    this.name = 'QueueFullError'
  }
}

export interface ConcurrencyLimit {
  <T>(task: () => Promise<T>): Promise<T>
  /** Tasks running now, and tasks waiting for a slot. */
  readonly state: () => { running: number, waiting: number }
}

/**
 * Runs at most `limit` tasks at once; the others wait in arrival order, at most `maxWaiting`
 * of them (beyond it: `QueueFullError`). Returns the wrapper that takes a task and resolves
 * with its result.
 */
export function createConcurrencyLimit (limit: number, maxWaiting = Number.POSITIVE_INFINITY): ConcurrencyLimit {
  let running = 0
  const waiting: (() => void)[] = []
  async function run<T> (task: () => Promise<T>): Promise<T> {
    if (running >= limit) {
      if (waiting.length >= maxWaiting) throw new QueueFullError()
      await new Promise<void>((resolve) => waiting.push(resolve))
    } else running++
    try {
      return await task()
    } finally {
      // Hand the slot straight to the next waiter (running stays the same), or free it.
      const next = waiting.shift()
      if (next) next()
      else running--
    }
  }
  return Object.assign(run, { state: () => ({ running, waiting: waiting.length }) })
}
