import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Authenticate } from '../sessions/authenticate.js'
import { requireSuperuser } from '../sessions/authorize.js'
import { AUTHENTICATED, described, errorResponses } from '../http/schemas.js'
import { AuditPage, AuditQuery } from '../audit/audit.schemas.js'
import type { AuditReader } from '../audit/audit-reader.js'

export interface AuditRoutesOptions {
  authenticate: Authenticate
  reader: AuditReader
}

export const auditRoutes: FastifyPluginAsyncTypebox<AuditRoutesOptions> = async (app, { authenticate, reader }) => {
  app.get('/', {
    // Authorised before the query is validated: a member gets 403 whatever they send, and
    // learns nothing about this endpoint's inputs.
    onRequest: [authenticate, requireSuperuser],
    schema: {
      tags: ['admin'],
      summary: 'Security events, newest first (superuser only)',
      operationId: 'listAuditEvents',
      security: AUTHENTICATED,
      querystring: AuditQuery,
      response: { 200: described(AuditPage, 'One page of audit events, newest first'), ...errorResponses('forbidden') }
    }
  }, async (request) => {
    const { user_id: userId, type, limit, offset } = request.query
    return reader.list({ userId, type, limit, offset })
  })
}
