import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import type { Config } from '../config/index.js'

/**
 * RFC 8414 authorization server metadata. Only what authd really serves is listed: the token
 * endpoint with the password and refresh_token grants, for public clients ("none"), and the
 * JWKS when tokens are signed asymmetrically. There is no authorization endpoint, so no
 * response type is supported, and no OpenID Connect: no ID tokens, no userinfo endpoint,
 * which is why `/.well-known/openid-configuration` is not served (it would promise both).
 */
export function authorizationServerMetadata (config: Config): Record<string, unknown> {
  const base = config.publicUrl
  return {
    issuer: config.tokens.issuer,
    token_endpoint: `${base}/api/v1/auth/token`,
    ...(config.tokens.algorithm === 'HS256' ? {} : { jwks_uri: `${base}/.well-known/jwks.json` }),
    grant_types_supported: ['password', 'refresh_token'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['none'],
    service_documentation: `${base}/docs`
  }
}

const AuthorizationServerMetadata = Type.Object({
  issuer: Type.String({ format: 'uri' }),
  token_endpoint: Type.String({ format: 'uri' }),
  jwks_uri: Type.Optional(Type.String({ format: 'uri' })),
  grant_types_supported: Type.Array(Type.String()),
  response_types_supported: Type.Array(Type.String()),
  token_endpoint_auth_methods_supported: Type.Array(Type.String()),
  service_documentation: Type.String({ format: 'uri' })
}, { title: 'AuthorizationServerMetadata' })

/** GET /.well-known/oauth-authorization-server (RFC 8414). */
export const oauthMetadataRoutes: FastifyPluginAsync<{ config: Config }> = async (app, { config }) => {
  const metadata = authorizationServerMetadata(config)
  app.get('/.well-known/oauth-authorization-server', {
    schema: {
      tags: ['operations'],
      summary: 'OAuth 2.0 authorization server metadata (RFC 8414)',
      description: 'There is no `/.well-known/openid-configuration`: authd issues no ID tokens and has no userinfo endpoint.',
      operationId: 'oauthAuthorizationServerMetadata',
      response: { 200: { ...AuthorizationServerMetadata, description: 'The metadata' } }
    }
  }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=3600')
    return metadata
  })
}
