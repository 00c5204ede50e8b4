import type { FastifyReply } from 'fastify'
import { AppError } from '../http/errors.js'
import type { FormState } from './render.js'

/** "in 45 seconds", "in 15 minutes", "in 1 hour": what a 429 page tells the user. */
export function retryAfterText (seconds: number): string {
  if (seconds < 90) return `in ${seconds} second${seconds === 1 ? '' : 's'}`
  const minutes = Math.ceil(seconds / 60)
  if (minutes < 90) return `in ${minutes} minutes`
  const hours = Math.ceil(minutes / 60)
  return `in ${hours} hour${hours === 1 ? '' : 's'}`
}

/**
 * Turns a service error into what a form shows: the contract's own messages (the pages
 * never word a rule differently from the API), each next to the field it concerns when it
 * concerns one. `fieldOf` maps error codes that name no field (`email_taken`,
 * `incorrect_password`) to this form's field. Anything that is not a client error is
 * rethrown for the error page.
 */
export function formErrorOf (error: unknown, reply: FastifyReply, fieldOf: Record<string, string> = {}): { status: number, state: FormState } {
  if (!(error instanceof AppError) || error.statusCode >= 500) throw error
  const errors: Record<string, string> = {}
  for (const { field, message } of error.options.errors ?? []) errors[field] ??= message
  const field = fieldOf[error.code]
  if (field) errors[field] = error.message
  if (error.statusCode === 429) {
    const retryAfter = error.options.headers?.['retry-after'] ?? '60'
    reply.header('retry-after', retryAfter)
    return { status: 429, state: { alert: `Too many requests. Try again ${retryAfterText(Number(retryAfter))}.` } }
  }
  if (Object.keys(errors).length > 0) {
    return { status: error.statusCode, state: { errors, alert: Object.values(errors).length === 1 ? Object.values(errors)[0]! : 'Please correct the fields marked below.' } }
  }
  return { status: error.statusCode, state: { alert: error.message } }
}
