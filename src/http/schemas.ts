import { Type } from '@sinclair/typebox'
import { ERROR_CODES, type ErrorCode } from './errors.js'

/** The one error body of the contract, referenced by every route's response schemas. */
export const ErrorResponse = Type.Object({
  detail: Type.String(),
  // An enum, not a union of literals: the serializer then writes it as the string it is.
  code: Type.Unsafe<ErrorCode>({ type: 'string', enum: [...ERROR_CODES], description: 'Stable error code; the catalogue is http/errors.ts' }),
  errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() })))
}, { $id: 'ErrorResponse', title: 'ErrorResponse' })

export const errorRef = Type.Ref('ErrorResponse')

export const MessageResponse = Type.Object({ message: Type.String() })

/** Response map helper: `errors(401, 403)` → `{ 401: ErrorResponse, 403: ErrorResponse }`. */
export function errorResponses (...statuses: number[]): Record<number, typeof errorRef> {
  return Object.fromEntries(statuses.map((s) => [s, errorRef]))
}
