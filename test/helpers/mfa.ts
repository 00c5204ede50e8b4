import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Db } from '../../src/database.js'
import { bearer } from './factories.js'
import { totpCode } from './totp.js'

/** Turns two-step verification on over HTTP; returns the secret (to compute codes) and the recovery codes. */
export async function enableTotp (app: FastifyInstance, accessToken: string, password: string, now: Date): Promise<{ secret: string, recoveryCodes: string[] }> {
  const setup = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/setup', headers: bearer(accessToken), payload: { password } })
  if (setup.statusCode !== 200) throw new Error(`setup failed: ${setup.statusCode} ${setup.body}`)
  const { secret } = setup.json() as { secret: string }
  const confirm = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/confirm', headers: bearer(accessToken), payload: { code: totpCode(secret, now) } })
  if (confirm.statusCode !== 200) throw new Error(`confirm failed: ${confirm.statusCode} ${confirm.body}`)
  return { secret, recoveryCodes: (confirm.json() as { recovery_codes: string[] }).recovery_codes }
}

/** POST /signin that must stop at the second step: the mfa_token. */
export async function mfaTokenFor (app: FastifyInstance, email: string, password: string): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email, password } })
  if (response.statusCode !== 403) throw new Error(`expected mfa_required, got ${response.statusCode} ${response.body}`)
  return (response.json() as { mfa_token: string }).mfa_token
}

export function verify (app: FastifyInstance, mfaToken: string, code: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/v1/auth/mfa/verify', headers, payload: { mfa_token: mfaToken, code } })
}

/** The claims of a JWT, unverified (the server verified it; the test reads what it says). */
export function claimsOf (token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>
}

/** Mails queued for `recipient` with this template, newest last. */
export async function mailsTo (db: Db, recipient: string, template: string) {
  return db.selectFrom('mail_outbox').select(['subject', 'text_body', 'html_body']).where('recipient', '=', recipient).where('template', '=', template).orderBy('created_at').execute()
}

export async function auditTypes (db: Db, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('audit_events').select(['type']).where('user_id', '=', userId).orderBy('created_at').execute()
  return rows.map((r) => r.type)
}
