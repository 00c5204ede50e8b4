import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { type RouteGroup, registerRoutes } from '../../src/routes.js'
import { buildTestApp } from '../helpers/build-test-app.js'

function entry (prefix: string, paths: string[], serve: (app: FastifyInstance) => void): RouteGroup {
  return { prefix, paths, register: async (app) => app.register(async (scope) => { serve(scope) }, { prefix }) }
}

test('the service starts with a route table that lists exactly what it serves', async (t) => {
  const app = await buildTestApp(t)
  assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
})

test('a group serving a path its entry does not list stops start-up', async () => {
  const app = Fastify()
  await assert.rejects(registerRoutes(app, [
    entry('/api', ['GET /a'], (scope) => { scope.get('/a', async () => ({})); scope.post('/b', async () => ({})) })
  ]), /unlisted POST \/api\/b/)
})

test('an entry listing a path nobody serves stops start-up', async () => {
  const app = Fastify()
  await assert.rejects(registerRoutes(app, [
    entry('/api', ['GET /a', 'DELETE /gone'], (scope) => { scope.get('/a', async () => ({})) })
  ]), /listed but not served DELETE \/api\/gone/)
})
