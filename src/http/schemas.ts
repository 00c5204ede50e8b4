import { type TSchema, Type } from '@sinclair/typebox'
import { ERROR_CODES, type ErrorCode } from './errors.js'

/** The one error body of the contract, referenced by every route's response schemas. */
export const ErrorResponse = Type.Object({
  detail: Type.String(),
  // An enum, not a union of literals: the serializer then writes it as the string it is.
  code: Type.Unsafe<ErrorCode>({ type: 'string', enum: [...ERROR_CODES], description: 'Stable error code; the catalogue is http/errors.ts' }),
  errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() })))
}, { $id: 'ErrorResponse', title: 'ErrorResponse' })

export const MessageResponse = Type.Object({ message: Type.String() }, { title: 'Message' })

/** A response schema with the description the document shows for it (instead of a bare shape). */
export function described<T extends TSchema> (schema: T, description: string): T {
  return { ...schema, description }
}

/** An empty answer (204, or a 202 without body), described. */
export function noContent (description: string) {
  return Type.Null({ description })
}

export { AUTHENTICATED, errorResponses, errorResponsesWith } from './openapi-conventions.js'

/** The `mfa_token` of a 403 `mfa_required`: with `errorResponsesWith(MfaTokenField, 'mfa_required')`. */
export const MfaTokenField = {
  mfa_token: Type.Optional(Type.String({ description: 'With code mfa_required: single use, 5 minutes; present it with a code at /mfa/verify' }))
}
