import type { FastifyRequest } from 'fastify'
import { authOf } from './authenticate.js'
import { Errors } from '../http/errors.js'

/** preHandler for superuser-only routes; runs after `authenticate`. */
export async function requireSuperuser (request: FastifyRequest): Promise<void> {
  if (!authOf(request).user.is_superuser) throw Errors.forbidden()
}
