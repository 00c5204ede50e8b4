import type { FastifyRequest } from 'fastify'
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
export async function refuseMalformedText (request: FastifyRequest): Promise<void> {
  const errors: FieldError[] = []
  for (const [part, value] of [['body', request.body], ['query', request.query], ['params', request.params]] as const) {
    const found = findBadText(value, part === 'body' ? [] : [part], 0)
    if (found !== undefined) errors.push(found)
  }
  if (errors.length > 0) throw Errors.validation(errors)
}
