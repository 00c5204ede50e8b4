/**
 * A small key-value port for state that several instances must share when Redis is configured
 * (rate-limit counters first) and that lives in-process otherwise.
 */
export interface CounterHit {
  /** The counter's value after this increment. */
  count: number
  /** Milliseconds until the counter's window ends and it starts again from zero. */
  ttlMs: number
}

export interface KeyValueStore {
  get: (key: string) => Promise<string | undefined>
  set: (key: string, value: string, ttlMs: number) => Promise<void>
  delete: (key: string) => Promise<void>
  /**
   * Atomically adds one to the counter at `key`; the first increment starts a window of
   * `windowMs`, after which the counter is gone. Returns the new value and the time left.
   * `limit`, when given, is the count past which the counter is a lockout: a store that must
   * evict (the in-process one) keeps those longest.
   */
  increment: (key: string, windowMs: number, limit?: number) => Promise<CounterHit>
  /** The counter's current value (0 when absent) without changing it. */
  peek: (key: string) => Promise<CounterHit>
  close: () => Promise<void>
}
