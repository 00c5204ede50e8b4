/**
 * Recognises a unique-constraint violation on either database and names the column, so a
 * service can answer 409 with the right code. Uniqueness is enforced by the database, not by
 * a prior read, so concurrent requests cannot both succeed.
 */
export function uniqueViolationColumn (error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined
  const e = error as { code?: unknown, message?: unknown, constraint?: unknown, detail?: unknown }
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    // "UNIQUE constraint failed: users.email"
    const match = /constraint failed: \w+\.(\w+)/.exec(String(e.message))
    return match?.[1]
  }
  if (e.code === '23505') {
    // detail: 'Key (email)=(a@b.co) already exists.'
    const match = /Key \(([\w]+)\)/.exec(String(e.detail))
    return match?.[1]
  }
  return undefined
}

/** The database did not answer in time (no connection within the pool timeout). */
export class DatabaseUnavailableError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'DatabaseUnavailableError'
  }
}

/** The database named by a variable cannot be used at start-up: one line, naming the variable. */
export class DatabaseStartupError extends Error {
  constructor (readonly variable: string, message: string) {
    super(`${variable}: ${message}`)
    this.name = 'DatabaseStartupError'
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
