import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { type AppOverrides, buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config/index.js'
import { createTestDatabaseUrl } from './test-db.js'

export type TestEnv = Record<string, string | undefined>

/** Environment of every test app: cheap argon2 (tests measure behaviour, not cost), quiet logs. */
export const TEST_ENV: TestEnv = {
  LOG_LEVEL: 'silent',
  ARGON2_MEMORY_KIB: '1024',
  ARGON2_TIME_COST: '1',
  RATE_LIMITS: 'off',
  // Like the rate limits, the hashing queue's bound is a control against floods with its own
  // test (test/security/hash-queue.test.ts); the concurrency tests elsewhere fire 50 at once.
  PASSWORD_HASH_QUEUE_MAX: '10000'
}

/**
 * Builds the app on a fresh database (or on `env.DATABASE_URL` to share one, e.g. across a
 * restart) and closes it when the test ends.
 */
export async function buildTestApp (t: Pick<TestContext, 'after'>, env: TestEnv = {}, overrides: AppOverrides = {}): Promise<FastifyInstance> {
  return (await buildTestAppWithDatabase(t, env, overrides)).app
}

/** `buildTestApp`, also returning the database URL (for `openDirectDb`). */
export async function buildTestAppWithDatabase (t: Pick<TestContext, 'after'>, env: TestEnv = {}, overrides: AppOverrides = {}): Promise<{ app: FastifyInstance, databaseUrl: string }> {
  // Registered before the database exists: `after` hooks run in order, so the app (and its
  // background outbox sender) is closed before its database is removed.
  const built: { app?: FastifyInstance } = {}
  t.after(() => built.app?.close())
  const databaseUrl = env.DATABASE_URL ?? await createTestDatabaseUrl(t)
  const config = loadConfig({ ...TEST_ENV, ...env, DATABASE_URL: databaseUrl })
  built.app = await buildApp(config, overrides)
  return { app: built.app, databaseUrl }
}

/**
 * Waits until /readyz answers 200 (with Redis: connected and subscribed to the revocation
 * channel). Polls a condition, bounded, and fails the test if it never holds.
 */
export async function waitUntilReady (app: FastifyInstance): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if ((await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error('the app never became ready')
}
