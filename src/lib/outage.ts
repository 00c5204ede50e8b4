/**
 * Telling an outage from a bug: errors that mean "the database cannot serve now". Kept free of
 * project imports so that the error handler (http/) can classify without knowing the database.
 */

/** The database did not answer in time (no connection within the pool timeout). */
export class DatabaseUnavailableError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'DatabaseUnavailableError'
  }
}

// PostgreSQL SQLSTATEs that mean "the server cannot serve now", not "this request is wrong":
// class 08 (connection exception), 53 (insufficient resources: too many connections, disk
// full), 57P01-57P03 (shut down, crashed, starting), 57014 (statement timeout), 55P03 (lock timeout).
const PG_UNAVAILABLE = /^(08|53)|^57P0[123]$|^57014$|^55P03$/
// Socket errors of the driver's connection, and of a refused or unresolvable address.
const NET_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])
// SQLite: another connection holds the lock past busy_timeout, or the file cannot be written.
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY)/
// node-postgres reports its own timeouts and dead connections without a code.
const PG_DRIVER_MESSAGES = /timeout exceeded when trying to connect|Connection terminated|Query read timeout|is not queryable|Cannot use a pool after calling end/

/**
 * True when an error says the database is unreachable, too slow or shutting down: an outage,
 * which the error handler answers with 503 and Retry-After, instead of a bug (500).
 */
export function isDatabaseUnavailable (error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 4) return false
  if (error instanceof DatabaseUnavailableError) return true
  const e = error as { code?: unknown, message?: unknown, cause?: unknown, errors?: unknown }
  if (typeof e.code === 'string' && (PG_UNAVAILABLE.test(e.code) || NET_UNAVAILABLE.has(e.code) || SQLITE_UNAVAILABLE.test(e.code))) return true
  if (typeof e.message === 'string' && PG_DRIVER_MESSAGES.test(e.message)) return true
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true
  return isDatabaseUnavailable(e.cause, depth + 1)
}

/** One line for the log or stderr: code and message, never the driver's whole error object. */
export function describeError (error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = (error as { code?: unknown }).code
  const message = error.message || (error instanceof AggregateError ? error.errors.map((inner: unknown) => describeError(inner)).join('; ') : error.name)
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message
}
