import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { Authenticate } from '../sessions/authenticate.js'
import { requireSuperuser } from '../sessions/authorize.js'
import { described, errorResponses } from '../http/schemas.js'
import { actorOf } from './users.routes.js'
import { CreateRoleBody, Role } from '../roles/roles.schemas.js'
import type { RolesService } from '../roles/roles.service.js'

export interface RolesRoutesOptions {
  roles: RolesService
  authenticate: Authenticate
}

const tags = ['admin']
const security: Array<Record<string, string[]>> = [{ bearer: [] }, { cookie: [] }]

export const rolesRoutes: FastifyPluginAsyncTypebox<RolesRoutesOptions> = async (app, { roles, authenticate }) => {
  // As for the user admin API: superuser check before validation.
  app.addHook('onRequest', authenticate)
  app.addHook('onRequest', requireSuperuser)

  app.get('/', {
    schema: { tags, summary: 'List roles', operationId: 'listRoles', security, response: { 200: Type.Array(Role, { description: 'Every role' }), ...errorResponses('forbidden') } }
  }, async () => roles.list())

  app.post('/', {
    schema: {
      tags,
      summary: 'Create a role',
      operationId: 'createRole',
      security,
      body: CreateRoleBody,
      response: { 201: described(Role, 'The new role'), ...errorResponses('forbidden', 'role_exists') }
    }
  }, async (request, reply) => {
    const role = await roles.create(request.body, actorOf(request))
    return reply.code(201).send(role)
  })
}
