import QRCode from 'qrcode'
import type { IssuedTokens } from '../auth/auth.service.js'
import type { ClientInfo } from '../lib/client-info.js'

/** What the pages need of the two-step verification flow (mfa/), by its own methods. */
export interface TwoStepPort {
  verifySignin: (mfaToken: string, code: string, client: ClientInfo) => Promise<IssuedTokens>
  beginTotpSetup: (userId: string, password: string) => Promise<{ secret: string, otpauthUri: string }>
  pendingTotpUri: (userId: string) => Promise<string | undefined>
  confirmTotp: (userId: string, sessionId: string, code: string, client: ClientInfo) => Promise<{ recoveryCodes: string[] }>
  regenerateRecoveryCodes: (userId: string, sessionId: string, password: string, client: ClientInfo) => Promise<{ recoveryCodes: string[] }>
  disableTotp: (userId: string, password: string, code: string, client: ClientInfo) => Promise<void>
}

export interface PasskeyItem { id: string, name: string, created_at: string, last_used_at: string | null }

/** What the account page needs of the passkeys flow (passkeys/). */
export interface PasskeysPort {
  list: (userId: string) => Promise<PasskeyItem[]>
  rename: (userId: string, id: string, name: string, client: ClientInfo) => Promise<unknown>
  remove: (userId: string, id: string, client: ClientInfo) => Promise<void>
}

/**
 * The otpauth URI as an inline SVG QR code, made on the server (no script, no image request),
 * labelled for assistive technology; the secret is shown as text beside it for manual entry.
 */
export async function qrCodeSvg (otpauthUri: string): Promise<string> {
  const svg = await QRCode.toString(otpauthUri, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' })
  return svg.replace('<svg ', '<svg class="qr" role="img" aria-label="QR code of the two-step verification key" ')
}

/** "JBSW Y3DP …": the base32 secret in groups of four, easier to type. */
export function groupSecret (secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ')
}

/** How a session was opened, from its RFC 8176 `amr`, in words. */
export function signInMethod (amr: readonly string[] | undefined): string {
  if (!amr || amr.length === 0) return 'Password'
  if (amr.includes('hwk') || amr.includes('swk')) return 'Passkey'
  if (amr.includes('otp')) return 'Password and code'
  return 'Password'
}

/** Recovery codes as the downloaded file holds them. */
export function recoveryCodesFile (productName: string, email: string, codes: readonly string[]): string {
  return [
    `${productName} recovery codes for ${email}`,
    'Each code works once, in place of a code from your authenticator app.',
    '',
    ...codes,
    ''
  ].join('\r\n')
}

/** The shape of a recovery code (`xxxx-xxxx-xxxx-xxxx`, base32): the download echoes nothing else. */
export const RECOVERY_CODE_SHAPE = /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/
