import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { Config } from '../config/index.js'
import { COOKIE_SETTING_ROUTES } from './csrf.js'
import { addStandardErrors, finishDocument } from './openapi-conventions.js'

/**
 * OpenAPI 3.1 generated from the route schemas. Registered before any route, so that it sees
 * them all; `openApiRoutes` serves it. How a route documents itself: openapi-conventions.ts.
 */
export async function registerOpenApi (app: FastifyInstance, config: Config): Promise<void> {
  app.addHook('onRoute', addStandardErrors({ cookieSettingRoutes: COOKIE_SETTING_ROUTES }))
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'authd',
        version: '0.1.0',
        description: 'Sign-up, sign-in, tokens, sessions and user administration. The guide for users is docs/api.md in the repository.'
      },
      // Where this instance is reached (PUBLIC_URL), so "Try it out" in /docs calls it.
      servers: [{ url: config.publicUrl }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The access token (RFC 9068 JWT) in `Authorization: Bearer …`' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'access_token', description: 'The same token in the HttpOnly `access_token` cookie set at sign-in' }
        }
      }
    },
    transformObject: (documentObject) => finishDocument(('openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject) as Record<string, any>),
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
