import type { Clock } from '../../src/lib/clock.js'

/** A clock that stands still until a test moves it. */
export function fakeClock (start = new Date()): Clock & { advance: (seconds: number) => void } {
  let now = start.getTime()
  return {
    now: () => new Date(now),
    advance: (seconds) => { now += seconds * 1000 }
  }
}
