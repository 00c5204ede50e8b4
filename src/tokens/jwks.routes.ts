import type { FastifyPluginAsync } from 'fastify'
import type { TokenSigner } from './jwt.js'

/** GET /.well-known/jwks.json: the public keys that verify access tokens. */
export const jwksRoutes: FastifyPluginAsync<{ signer: TokenSigner }> = async (app, { signer }) => {
  app.get('/.well-known/jwks.json', {
    schema: { tags: ['operations'], summary: 'Public keys that verify access tokens', operationId: 'jwks' }
  }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300')
    return signer.jwks()
  })
}
