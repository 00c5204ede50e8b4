import type { FastifyReply, FastifyRequest } from 'fastify'
import { Errors, type FieldError } from './errors.js'

const MAX_DEPTH = 8

/** What is wrong with a piece of text, or undefined. */
function textProblem (value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain NUL characters'
  // A lone UTF-16 surrogate (JSON allows "\ud800") has no UTF-8 form: encoders turn it into
  // U+FFFD, so "\ud800", "\udfff" and "\ufffd" would all hash, compare and store alike.
  if (!value.isWellFormed()) return 'must not contain unpaired UTF-16 surrogates'
  return undefined
}

/** The first bad string (in a value or in an object key), as a dotted path and a message. */
function findBadText (value: unknown, path: string[], depth: number): FieldError | undefined {
  if (typeof value === 'string') {
    const message = textProblem(value)
    return message ? { field: path.join('.') || 'body', message } : undefined
  }
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return undefined
  for (const [key, inner] of Object.entries(value)) {
    const keyMessage = textProblem(key)
    if (keyMessage) return { field: path.join('.') || 'body', message: keyMessage }
    const found = findBadText(inner, [...path, key], depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * preValidation hook, for JSON and form bodies, query strings and path parameters alike:
 * - a NUL character is never meaningful in our text fields, SQLite and PostgreSQL disagree
 *   about it (PostgreSQL rejects it in text), and C-based components may truncate at it;
 * - a lone surrogate collapses to U+FFFD on its way to UTF-8 (a password holding "\ud800"
 *   would also verify with "\udfff" or "\ufffd").
 * Refused up front as a 422, so no such input reaches a service or the database.
 */
export function refuseMalformedText (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void {
  // Synchronous, and nothing allocated for a request without input (a GET /me).
  let errors: FieldError[] | undefined
  const check = (value: unknown, path: string[]): void => {
    const found = findBadText(value, path, 0)
    if (found !== undefined) (errors ??= []).push(found)
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
