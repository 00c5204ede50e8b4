import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance, LogController } from 'fastify'
import type { Config } from './config/index.js'
import { createCsrfGuard } from './http/csrf.js'
import { registerShutdownRefusal } from './http/connection-drain.js'
import { createPreRoutingErrorHandlers, registerErrorHandling } from './http/error-handler.js'
import { refuseMalformedText } from './http/input-hygiene.js'
import { registerOpenApi } from './http/openapi.js'
import { registerAccessLog, registerEmailTrim, registerJsonOnly, registerJsonParser, registerRequestIdHeader, requestIdOf } from './http/request-plumbing.js'
import { requestLoggerFactory } from './http/request-logger.js'
import { ErrorResponse } from './http/schemas.js'
import { createSecurityHeaders, registerSecurityHeaders, type SecurityHeaders } from './http/security-headers.js'
import { createValidatorCompiler } from './http/validation.js'
import { type Clock, systemClock } from './lib/clock.js'
import { observeHttpMetrics } from './metrics/metrics.js'
import { createArgon2Hasher, type PasswordHasher } from './passwords/password-hasher.js'
import { registerRoutes, routeTable } from './routes.js'
import { buildServices } from './services.js'

export interface AppOverrides {
  clock?: Clock
  hasher?: PasswordHasher
  /** Where log lines go (default: stdout). */
  logStream?: { write: (line: string) => void }
}

const BODY_LIMIT = 64 * 1024

/**
 * Builds the whole service (database opened and migrated) without listening: the Fastify
 * instance, then the services, then the global plugins, then the route table (src/routes.ts).
 */
export async function buildApp (config: Config, overrides: AppOverrides = {}): Promise<FastifyInstance> {
  const securityHeaders = createSecurityHeaders(config)
  const app = createFastify(config, overrides, securityHeaders)
  const services = await buildServices(app, config, {
    clock: overrides.clock ?? systemClock,
    hasher: overrides.hasher ?? createArgon2Hasher(config.password.argon2, { maxQueue: config.password.hashQueueMax })
  })
  await registerPlugins(app, config, securityHeaders)
  await registerRoutes(app, routeTable(services))
  return app
}

function createFastify (config: Config, overrides: AppOverrides, securityHeaders: SecurityHeaders): FastifyInstance {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      ...(overrides.logStream ? { stream: overrides.logStream } : {}),
      // Belt and braces: nothing logs headers or bodies, but if someone adds it, the secrets
      // stay out of the log.
      redact: {
        paths: [
          'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
          'headers.authorization', 'headers.cookie',
          '*.password', '*.new_password', '*.old_password', '*.refresh_token', '*.access_token', '*.token'
        ],
        censor: '[redacted]'
      }
    },
    // One line per request (registerAccessLog) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // request.log without a pino child per request (see request-logger.ts).
    childLoggerFactory: requestLoggerFactory,
    bodyLimit: BODY_LIMIT,
    trustProxy: config.trustProxy ? [...config.trustProxy] : false,
    genReqId: requestIdOf,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // A request whose headers and body are not all in by then is answered 408 and closed, so
    // a client that trickles bytes cannot hold a socket (and its memory) for ever. Node checks
    // for such requests on a timer: run it often enough for the bound to mean something.
    requestTimeout: config.http.requestTimeoutMs,
    http: { connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(config.http.requestTimeoutMs / 4))) },
    // While closing, registerShutdownRefusal answers 503 in the contract's shape instead.
    return503OnClosing: false,
    ...createPreRoutingErrorHandlers(securityHeaders.fixed, requestIdOf)
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.server.headersTimeout = Math.min(60_000, config.http.requestTimeoutMs)
  app.setValidatorCompiler(createValidatorCompiler())
  app.addSchema(ErrorResponse)
  registerErrorHandling(app)
  return app
}

/** The rules every request passes, in the order they apply. */
async function registerPlugins (app: FastifyInstance, config: Config, securityHeaders: SecurityHeaders): Promise<void> {
  app.decorateRequest('auth', null)
  observeHttpMetrics(app)
  registerRequestIdHeader(app)
  registerAccessLog(app)
  registerJsonOnly(app)
  registerJsonParser(app)
  registerEmailTrim(app)
  await app.register(cookie)
  await registerSecurityHeaders(app, config, securityHeaders)
  registerShutdownRefusal(app)
  app.addHook('preValidation', createCsrfGuard(config))
  app.addHook('preValidation', refuseMalformedText)
  await app.register(formbody, { bodyLimit: BODY_LIMIT })
  await registerOpenApi(app, config)
}
