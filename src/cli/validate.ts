import type { TSchema } from '@sinclair/typebox'
import { type AjvLikeError, fieldErrors } from '../http/error-handler.js'
import type { FieldError } from '../http/errors.js'
import { createValidatorCompiler } from '../http/validation.js'

const compile = createValidatorCompiler()

/**
 * Checks input against one of the API's body schemas with the API's own validator settings, so
 * the CLI accepts exactly what the API accepts and reports it in the same terms (`errors[]`).
 * Like a request body, the value is cleaned in place: unknown fields are dropped.
 */
export function bodyValidator (schema: TSchema): (value: unknown) => FieldError[] {
  const validate = compile({ schema, httpPart: 'body', method: 'POST', url: '' }) as ((data: unknown) => boolean) & { errors?: AjvLikeError[] | null }
  return (value) => validate(value) ? [] : fieldErrors(validate.errors ?? [])
}
