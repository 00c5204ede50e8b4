import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, Errors, OAuthError, type FieldError } from './errors.js'

export interface AjvLikeError { instancePath?: string, message?: string, keyword?: string, params?: Record<string, unknown> }

/** Ajv errors as the contract's `errors[]` (also used by the operator CLI, which checks input with the same schemas). */
export function fieldErrors (validation: AjvLikeError[]): FieldError[] {
  return validation.map((e) => {
    const path = (e.instancePath ?? '').split('/').filter(Boolean)
    if (e.keyword === 'required' && typeof e.params?.missingProperty === 'string') path.push(e.params.missingProperty)
    if (e.keyword === 'additionalProperties' && typeof e.params?.additionalProperty === 'string') path.push(e.params.additionalProperty)
    return { field: path.join('.') || 'body', message: e.message ?? 'is invalid' }
  })
}

function send (reply: FastifyReply, error: AppError): FastifyReply {
  for (const [name, value] of Object.entries(error.options.headers ?? {})) reply.header(name, value)
  const body: Record<string, unknown> = { detail: error.message, code: error.code }
  if (error.statusCode === 422) body.errors = error.options.errors ?? []
  return reply.code(error.statusCode).type('application/json; charset=utf-8').send(body)
}

/** Maps Fastify's own 4xx errors onto the contract's codes. */
function fromFastify (error: FastifyError): AppError | undefined {
  if (error.validation) return Errors.validation(fieldErrors(error.validation as AjvLikeError[]))
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return Errors.invalidJson()
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return Errors.payloadTooLarge()
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return Errors.unsupportedMediaType()
  }
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500) return Errors.fromStatus(status, error.message)
  return undefined
}

export function registerErrorHandling (app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof AppError) return send(reply, error)
    if (error instanceof OAuthError) {
      for (const [name, value] of Object.entries(error.headers)) reply.header(name, value)
      return reply.code(error.statusCode).header('cache-control', 'no-store')
        .send({ error: error.error, error_description: error.description })
    }
    const mapped = fromFastify(error as FastifyError)
    if (mapped) return send(reply, mapped)
    request.log.error({ err: error }, 'unhandled error')
    return send(reply, Errors.internal())
  })

  app.setNotFoundHandler((request, reply) => {
    return send(reply, Errors.notFound())
  })
}
