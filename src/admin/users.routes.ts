import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { type Authenticate, authOf } from '../sessions/authenticate.js'
import { requireSuperuser } from '../sessions/authorize.js'
import { described, errorResponses, noContent } from '../http/schemas.js'
import { CreateUserBody, ListUsersQuery, UpdateUserBody, User, UserList, UserParams } from '../users/users.schemas.js'
import type { Actor, UsersService } from '../users/users.service.js'

export interface UsersRoutesOptions {
  users: UsersService
  authenticate: Authenticate
}

export function actorOf (request: FastifyRequest): Actor {
  return { userId: authOf(request).user.id, ip: request.ip ?? null, userAgent: request.headers['user-agent'] ?? null }
}

const tags = ['admin']
const security: Array<Record<string, string[]>> = [{ bearer: [] }, { cookie: [] }]

/** The admin API: superusers only. */
export const usersRoutes: FastifyPluginAsyncTypebox<UsersRoutesOptions> = async (app, { users, authenticate }) => {
  // The superuser check runs before validation, so a non-superuser learns nothing about
  // these endpoints' inputs: every request of theirs is 403.
  app.addHook('onRequest', authenticate)
  app.addHook('onRequest', requireSuperuser)

  app.get('/', {
    schema: {
      tags,
      summary: 'List users (search, filter, sort, page)',
      operationId: 'listUsers',
      security,
      querystring: ListUsersQuery,
      response: { 200: described(UserList, 'One page of users, and the total that match'), ...errorResponses('forbidden') }
    }
  }, async (request) => {
    const q = request.query
    return users.list({ limit: q.limit, offset: q.offset, search: q.search, sort: q.sort, order: q.order, isActive: q.is_active, mfaEnabled: q.mfa_enabled })
  })

  app.post('/', {
    schema: {
      tags,
      summary: 'Create a user',
      operationId: 'createUser',
      security,
      body: CreateUserBody,
      response: { 201: described(User, 'The new user'), ...errorResponses('forbidden', 'email_taken', 'username_taken', 'weak_password') }
    }
  }, async (request, reply) => {
    const user = await users.create(request.body, actorOf(request))
    return reply.code(201).send(user)
  })

  app.get('/:id', {
    schema: {
      tags,
      summary: 'Get a user',
      operationId: 'getUser',
      security,
      params: UserParams,
      response: { 200: described(User, 'The user'), ...errorResponses('forbidden', 'user_not_found') }
    }
  }, async (request) => users.get(request.params.id))

  app.patch('/:id', {
    schema: {
      tags,
      summary: 'Update a user (deactivation, demotion or a new password end their sessions)',
      operationId: 'updateUser',
      security,
      params: UserParams,
      body: UpdateUserBody,
      response: { 200: described(User, 'The updated user'), ...errorResponses('forbidden', 'user_not_found', 'email_taken', 'username_taken', 'weak_password') }
    }
  }, async (request) => users.update(request.params.id, request.body, actorOf(request)))

  app.delete('/:id', {
    schema: {
      tags,
      summary: 'Delete a user (their tokens are refused from now on)',
      operationId: 'deleteUser',
      security,
      params: UserParams,
      response: { 204: noContent('The user is deleted; their tokens are refused from now on'), ...errorResponses('forbidden', 'user_not_found') }
    }
  }, async (request, reply) => {
    await users.remove(request.params.id, actorOf(request))
    return reply.code(204).send(null)
  })
}
