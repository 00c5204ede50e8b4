import type { Config } from '../config/index.js'
import { type AppError, Errors } from '../http/errors.js'
import type { UserRow } from './users.table.js'

export interface SignInRefusal { reason: 'inactive' | 'unverified', error: AppError }

/**
 * Why an account whose credential was just proven (password, second step, passkey) may not be
 * signed in, or undefined: the one rule of every way in. Told only to whoever proved the
 * credential, so it reveals nothing to a stranger. An inactive account never signs in; with
 * SIGNUP_ENUMERATION_SAFE, neither does one whose address is not verified (sign-up then
 * proves nothing about the address until its owner clicks the link).
 */
export function signInRefusal (user: Pick<UserRow, 'is_active' | 'is_verified'>, config: Pick<Config, 'signupEnumerationSafe'>): SignInRefusal | undefined {
  if (user.is_active !== 1) return { reason: 'inactive', error: Errors.inactiveUser() }
  if (config.signupEnumerationSafe && user.is_verified !== 1) return { reason: 'unverified', error: Errors.emailNotVerified() }
  return undefined
}
