import { Ajv, type Options } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'

function makeAjv (coerceTypes: Options['coerceTypes']): Ajv {
  const ajv = new Ajv({
    coerceTypes,
    // Unknown JSON fields are dropped before the handler sees them: never stored.
    removeAdditional: true,
    useDefaults: true,
    allErrors: false,
    strict: false
  })
  addFormats.default(ajv, ['email', 'uuid', 'date-time', 'uri'])
  return ajv
}

/**
 * Bodies are JSON with real types: `"password": 12345678` is a client error (422), not a
 * string to coerce. Query strings and path parameters are text by nature and are coerced.
 */
export function createValidatorCompiler (): FastifySchemaCompiler<any> {
  const strict = makeAjv(false)
  const coercing = makeAjv('array')
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object)
}
