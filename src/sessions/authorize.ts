import type { FastifyRequest } from 'fastify'
import { authOf } from './authenticate.js'
import { Errors } from '../http/errors.js'

/**
 * For superuser-only routes: an onRequest hook right after `authenticate`, so it runs before
 * the body or query is validated (a preHandler would run after, and answer 422 to a member).
 */
export async function requireSuperuser (request: FastifyRequest): Promise<void> {
  if (!authOf(request).user.is_superuser) throw Errors.forbidden()
}
