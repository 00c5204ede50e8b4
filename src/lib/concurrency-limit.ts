/**
 * Runs at most `limit` tasks at once; the others wait in arrival order. Returns the wrapper
 * that takes a task and resolves with its result.
 */
export function createConcurrencyLimit (limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0
  const waiting: (() => void)[] = []
  return async function run<T> (task: () => Promise<T>): Promise<T> {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve))
    else running++
    try {
      return await task()
    } finally {
      // Hand the slot straight to the next waiter (running stays the same), or free it.
      const next = waiting.shift()
      if (next) next()
      else running--
    }
  }
}
