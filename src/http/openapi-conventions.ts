import type { RouteOptions } from 'fastify'
import { ERROR_CATALOGUE, type ERROR_CODES } from './errors.js'

/** The codes an HTTP answer can carry (the CLI's own codes never are). */
type ErrorCode = typeof ERROR_CODES[number]

/**
 * How a route is documented, so that every endpoint comes out alike in `/openapi.json`:
 *
 * - Success responses carry a `description` and, for shared shapes, a schema with a `title`
 *   (`User`, `TokenResponse`…): a titled schema becomes a named component (`finishDocument`).
 * - Error responses come from `errorResponses(...codes)`: each status lists the codes of the
 *   error catalogue it can carry, and the document narrows `ErrorResponse.code` to them.
 * - What the plumbing adds to every route is added here, not in each route (`addStandardErrors`):
 *   400/413/415/422 for bodies, 422 for parameters, 401/403 for `security`, 403 `csrf_failed`
 *   for writes a browser can send with cookies, 429 and 503 with `Retry-After`, 500, 503.
 * - `security: AUTHENTICATED` on a guarded route documents the bearer header and the cookie;
 *   `config: { optionalBody: true }` marks a body that may be left out entirely.
 */

/** The security requirement of a route behind `authenticate`: the bearer header, or the cookie. */
export const AUTHENTICATED: Array<Record<string, string[]>> = [{ bearer: [] }, { cookie: [] }]

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The request body may be absent (documented as optional; read as `{}`). */
    optionalBody?: boolean
  }
}

const ERROR_CODES_KEY = 'x-error-codes'

type ErrorSchema = Record<string, unknown> & { description: string, properties: Record<string, unknown>, [ERROR_CODES_KEY]: ErrorCode[] }

/**
 * The response schema of one error status: `ErrorResponse`, its `code` narrowed to `codes`,
 * plus any fields some of those codes add (`fields`, e.g. the `mfa_token` of `mfa_required`):
 * the serializer writes only what the schema names, so such a field must be named here.
 */
function errorSchema (codes: readonly ErrorCode[], fields: Record<string, unknown> = {}): ErrorSchema {
  const unique = [...new Set(codes)]
  return {
    description: unique.map((code) => `\`${code}\`: ${ERROR_CATALOGUE[code].description}`).join('; '),
    allOf: [{ $ref: 'ErrorResponse' }],
    type: 'object',
    properties: { ...fields, code: { type: 'string', enum: unique } },
    [ERROR_CODES_KEY]: unique
  }
}

/** The fields of an error schema beside `code` (kept when more codes are merged in). */
function extraFields (schema: ErrorSchema): Record<string, unknown> {
  const { code: _code, ...fields } = schema.properties
  return fields
}

/**
 * Response-map entries for errors: `errorResponses('email_taken', 'username_taken')` →
 * `{ 409: ErrorResponse with code ∈ {email_taken, username_taken} }`. A code answered with
 * another status than its usual one is given as `[status, code]` (e.g. `[400, 'invalid_token']`).
 */
export function errorResponses (...entries: Array<ErrorCode | [number, ErrorCode] | number>): Record<number, ErrorSchema> {
  const byStatus = new Map<number, ErrorCode[]>()
  const add = (status: number, code: ErrorCode): void => { byStatus.set(status, [...(byStatus.get(status) ?? []), code]) }
  for (const entry of entries) {
    if (Array.isArray(entry)) add(...entry)
    // A bare status (the older form): every code of the catalogue with that status.
    else if (typeof entry === 'number') for (const [code, { status }] of Object.entries(ERROR_CATALOGUE)) { if (status === entry) add(status, code as ErrorCode) }
    else add(ERROR_CATALOGUE[entry].status, entry)
  }
  return Object.fromEntries([...byStatus].map(([status, codes]) => [status, errorSchema(codes)]))
}

/**
 * Like `errorResponses`, for codes whose body carries fields of its own:
 * `errorResponsesWith({ mfa_token: … }, 'mfa_required')`.
 */
export function errorResponsesWith (fields: Record<string, unknown>, ...entries: Array<ErrorCode | [number, ErrorCode]>): Record<number, ErrorSchema> {
  return Object.fromEntries(Object.entries(errorResponses(...entries)).map(([status, schema]) => [status, errorSchema(schema[ERROR_CODES_KEY], fields)]))
}

function isErrorSchema (value: unknown): value is ErrorSchema {
  return typeof value === 'object' && value !== null && ERROR_CODES_KEY in value
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * onRoute hook: adds the errors that the service's plumbing answers on this route, merged with
 * those the route declares. Registered before any route; it changes the route's own response
 * map, so serialization and the document agree.
 */
export function addStandardErrors (options: { cookieSettingRoutes: readonly string[] }) {
  const cookieSetting = new Set(options.cookieSettingRoutes)
  return (route: RouteOptions): void => {
    const schema = route.schema as (Record<string, unknown> & { response?: Record<string, unknown>, hide?: boolean }) | undefined
    if (!schema || schema.hide || !schema.response) return
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    const write = methods.some((method) => WRITE_METHODS.has(method))
    const form = Array.isArray(schema.consumes) && schema.consumes.includes('application/x-www-form-urlencoded')
    // The older `[{ bearer: [] }]` of a guarded route: `authenticate` takes the cookie as well.
    if (JSON.stringify(schema.security) === '[{"bearer":[]}]') schema.security = AUTHENTICATED
    const authenticated = Array.isArray(schema.security) && schema.security.length > 0
    const response = schema.response
    // 503: any route can meet an outage (database, hashing capacity, shutting down).
    const extra: Array<ErrorCode | [number, ErrorCode]> = ['internal_error', 'service_unavailable']
    if (schema.body !== undefined) {
      extra.push('payload_too_large', 'unsupported_media_type')
      if (!form) extra.push('invalid_json')
    }
    // A route that answers its own 400 shape (the OAuth token endpoint) keeps it for bad input.
    const ownBadRequest = response[400] !== undefined && !isErrorSchema(response[400])
    if ((schema.body !== undefined || schema.querystring !== undefined || schema.params !== undefined) && !ownBadRequest) extra.push('validation_error')
    if (authenticated) extra.push('not_authenticated', 'invalid_token', 'inactive_user')
    if (write && (authenticated || cookieSetting.has(route.url))) extra.push('csrf_failed')
    for (const [status, added] of Object.entries(errorResponses(...extra))) {
      const current = response[status]
      if (current === undefined) response[status] = added
      else if (isErrorSchema(current)) response[status] = errorSchema([...current[ERROR_CODES_KEY], ...added[ERROR_CODES_KEY]], extraFields(current))
      // Otherwise the route answers this status in its own shape (OAuth errors): left as it is.
    }
    if (route.config?.optionalBody) {
      schema['x-optional-body'] = true
      // A client that sends no body at all (no content type) gets the same as `{}`.
      const readAsEmpty = async (request: { body: unknown }): Promise<void> => { request.body ??= {} }
      route.preValidation = [readAsEmpty, ...(route.preValidation === undefined ? [] : Array.isArray(route.preValidation) ? route.preValidation : [route.preValidation])]
    }
  }
}

type Json = Record<string, any>

/**
 * The last pass over the generated document (`transformObject`): named components from titled
 * schemas, the narrowed error schemas, optional bodies and defaulted parameters, `Retry-After`.
 * Throws on two different schemas with one title, so a clash fails the tests, not a client.
 */
export function finishDocument (document: Json): Json {
  const components: Json = document.components?.schemas ?? {}
  const seen = new Map<string, string>()

  function hoist (schema: unknown, path: string): unknown {
    if (Array.isArray(schema)) return schema.map((item, i) => hoist(item, `${path}/${i}`))
    if (typeof schema !== 'object' || schema === null) return schema
    const { [ERROR_CODES_KEY]: _codes, ...rest } = schema as Json
    const walked: Json = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, hoist(value, `${path}/${key}`)]))
    const title = walked.title
    if (typeof title !== 'string' || !/^[A-Z][A-Za-z0-9]*$/.test(title)) return walked
    const { description: _description, ...shape } = walked
    const fingerprint = JSON.stringify(shape)
    const known = seen.get(title)
    if (known !== undefined && known !== fingerprint) throw new Error(`OpenAPI: two different schemas are titled ${title} (at ${path})`)
    if (components[title] === undefined || known === undefined) components[title] = shape
    seen.set(title, fingerprint)
    // A bare $ref: the response keeps its own description, and tools still on OpenAPI 3.0's
    // rules (no siblings beside $ref) read the document too.
    return { $ref: `#/components/schemas/${title}` }
  }

  for (const [path, item] of Object.entries(document.paths ?? {}) as Array<[string, Json]>) {
    for (const [method, operation] of Object.entries(item) as Array<[string, Json]>) {
      const where = `${method} ${path}`
      if (operation.requestBody) {
        operation.requestBody = hoist(operation.requestBody, where)
        if (operation['x-optional-body']) operation.requestBody.required = false
        delete operation['x-optional-body']
      }
      for (const parameter of operation.parameters ?? []) {
        if (parameter.schema?.default !== undefined) parameter.required = false
      }
      for (const [status, response] of Object.entries(operation.responses ?? {}) as Array<[string, Json]>) {
        operation.responses[status] = hoist(response, `${where} ${status}`)
        if (status === '429' || status === '503') {
          operation.responses[status].headers = {
            'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } },
            ...operation.responses[status].headers
          }
        }
      }
    }
  }
  // Shared schemas registered with addSchema (ErrorResponse) may carry titled parts too.
  for (const [name, schema] of Object.entries(components)) {
    const { title: _title, ...rest } = schema as Json
    components[name] = { ...(Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, hoist(value, `#/components/schemas/${name}/${key}`)]))), title: name }
  }
  document.components = { ...document.components, schemas: components }
  return document
}
