import type { FastifyReply, FastifyRequest } from 'fastify'
import { Errors, type FieldError } from './errors.js'

const MAX_DEPTH = 8

/** The first string holding a NUL character, as a dotted path, or undefined. */
function findNul (value: unknown, path: string[], depth: number): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? (path.join('.') || 'body') : undefined
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return undefined
  for (const [key, inner] of Object.entries(value)) {
    const found = findNul(inner, [...path, key], depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * preValidation hook: a NUL character is never meaningful in our text fields, SQLite and
 * PostgreSQL disagree about it (PostgreSQL rejects it in text), and C-based components may
 * truncate at it. Refused up front as a 422, so no input can reach the database with one.
 */
export function refuseNulCharacters (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void {
  // Synchronous, and nothing allocated for a request without input (a GET /me).
  let errors: FieldError[] | undefined
  const check = (value: unknown, path: string[]): void => {
    const field = findNul(value, path, 0)
    if (field !== undefined) (errors ??= []).push({ field, message: 'must not contain NUL characters' })
  }
  if (request.body !== undefined) check(request.body, [])
  if (hasKeys(request.query)) check(request.query, ['query'])
  if (hasKeys(request.params)) check(request.params, ['params'])
  done(errors ? Errors.validation(errors) : undefined)
}

function hasKeys (value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false
  for (const key in value) if (Object.hasOwn(value, key)) return true
  return false
}
