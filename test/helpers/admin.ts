import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, type TestEnv } from './build-test-app.js'
import { bearer, PASSWORD, signUp, uniqueEmail, uniqueUsername } from './factories.js'
import { createTestDatabaseUrl } from './test-db.js'

export const ADMIN_PASSWORD = 'the primary admin passphrase 7'

export interface AdminApp {
  app: FastifyInstance
  databaseUrl: string
  adminEmail: string
  /** The primary admin (bootstrapped from ADMIN_EMAIL / ADMIN_PASSWORD). */
  admin: { id: string, accessToken: string, headers: Record<string, string> }
}

export async function signIn (app: FastifyInstance, email: string, password: string): Promise<{ id: string, accessToken: string, refreshToken: string, headers: Record<string, string> }> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email, password } })
  if (response.statusCode !== 200) throw new Error(`signin failed: ${response.statusCode} ${response.body}`)
  const body = response.json()
  return { id: body.user.id, accessToken: body.access_token, refreshToken: body.refresh_token, headers: bearer(body.access_token) }
}

/** A test app whose primary admin is bootstrapped from the environment, signed in. */
export async function buildAdminApp (t: Pick<TestContext, 'after'>, env: TestEnv = {}): Promise<AdminApp> {
  const databaseUrl = await createTestDatabaseUrl(t)
  const adminEmail = uniqueEmail('root')
  const app = await buildTestApp(t, { ADMIN_EMAIL: adminEmail, ADMIN_PASSWORD, ...env, DATABASE_URL: databaseUrl })
  const admin = await signIn(app, adminEmail, ADMIN_PASSWORD)
  return { app, databaseUrl, adminEmail, admin }
}

/** Creates a user through the admin API; returns the user object and its credentials. */
export async function createUser (app: FastifyInstance, adminHeaders: Record<string, string>, fields: Record<string, unknown> = {}) {
  const email = (fields.email as string | undefined) ?? uniqueEmail()
  const password = (fields.password as string | undefined) ?? PASSWORD
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/users',
    headers: adminHeaders,
    payload: { email, username: uniqueUsername(), password, ...fields }
  })
  if (response.statusCode !== 201) throw new Error(`create user failed: ${response.statusCode} ${response.body}`)
  const user = response.json() as { id: string, email: string, username: string, role: string, is_active: boolean, is_superuser: boolean }
  return { email, password, user }
}

/** Creates a user through the admin API and signs them in. */
export async function createSignedInUser (app: FastifyInstance, adminHeaders: Record<string, string>, fields: Record<string, unknown> = {}) {
  const created = await createUser(app, adminHeaders, fields)
  const session = await signIn(app, created.email, created.password)
  return { ...created, ...session }
}

export { signUp }
