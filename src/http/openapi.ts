import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { Config } from '../config/index.js'

/**
 * OpenAPI 3.1 generated from the route schemas. Registered before any route, so that it sees
 * them all; `openApiRoutes` serves it.
 */
export async function registerOpenApi (app: FastifyInstance, config: Config): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Auth service', version: '0.1.0', description: 'Sign-up, sign-in, tokens, sessions and user administration.' },
      servers: [{ url: config.publicUrl }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'access_token' }
        }
      }
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) }
  })
}

/** GET /openapi.json and the browsable docs at /docs. */
export const openApiRoutes: FastifyPluginAsync = async (app) => {
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // Replaces the API's deny-all CSP on the docs pages only: Swagger UI loads its own
    // scripts and styles and sets inline styles.
    staticCSP: "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'; img-src 'self' data:; script-src 'self'; style-src 'self' 'unsafe-inline'"
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
