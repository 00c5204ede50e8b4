import { createServer } from 'node:net'
import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import type { AppOverrides } from '../../src/app.js'
import { buildTestAppWithDatabase, type TestEnv } from '../helpers/build-test-app.js'

async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')))
    })
  })
}

/**
 * The service listening on 127.0.0.1 as a user runs it, for clients that speak real HTTP.
 * The port is chosen first so that PORT alone (PUBLIC_URL left to its default) gives the
 * issuer, the links and the allowed origin that a discovery client expects.
 */
export async function listeningApp (t: Pick<TestContext, 'after'>, env: TestEnv = {}, overrides: AppOverrides = {}): Promise<{ app: FastifyInstance, base: string, databaseUrl: string }> {
  const port = await freePort()
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, { PORT: String(port), ...env }, overrides)
  await app.listen({ host: '127.0.0.1', port })
  return { app, base: `http://127.0.0.1:${port}`, databaseUrl }
}
