import { randomBytes } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'

export const PASSWORD = 'a long and unusual passphrase 42'

export function uniqueEmail (prefix = 'user'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}@example.com`
}

export function uniqueUsername (prefix = 'user'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`
}

export interface SignedUp {
  email: string
  username: string
  password: string
  accessToken: string
  refreshToken: string
  userId: string
  response: LightMyRequestResponse
}

/** Signs a new user up over HTTP and returns its credentials and tokens. */
export async function signUp (app: FastifyInstance, fields: Partial<{ email: string, username: string, password: string, name: string }> = {}): Promise<SignedUp> {
  const email = fields.email ?? uniqueEmail()
  const username = fields.username ?? uniqueUsername()
  const password = fields.password ?? PASSWORD
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email, username, password, ...(fields.name ? { name: fields.name } : {}) } })
  if (response.statusCode !== 201) throw new Error(`signup failed: ${response.statusCode} ${response.body}`)
  const body = response.json()
  return { email, username, password, accessToken: body.access_token, refreshToken: body.refresh_token, userId: body.user.id, response }
}

export function bearer (token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}

/** The cookies a response sets, by name, with their attributes. */
export function cookiesOf (response: LightMyRequestResponse): Record<string, { value: string, [attribute: string]: unknown }> {
  return Object.fromEntries(response.cookies.map((c) => [c.name, c as { value: string }]))
}
