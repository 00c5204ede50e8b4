/** Injected wherever time matters, so tests can move it. */
export interface Clock {
  now: () => Date
}

export const systemClock: Clock = { now: () => new Date() }

/** Database times arrive as Date (PostgreSQL) or ISO strings (SQLite). */
export function toDate (value: string | Date): Date {
  return value instanceof Date ? value : new Date(value)
}

export function toIso (value: string | Date): string {
  return toDate(value).toISOString()
}

export function addSeconds (date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000)
}
