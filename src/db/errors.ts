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

/** The database named by a variable cannot be used at start-up: one line, naming the variable. */
export class DatabaseStartupError extends Error {
  constructor (readonly variable: string, message: string) {
    super(`${variable}: ${message}`)
    this.name = 'DatabaseStartupError'
  }
}
