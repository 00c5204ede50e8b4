import { Type } from '@sinclair/typebox'
import { Email, Password } from '../users/users.schemas.js'

/** Tokens are bounded so an oversized one is a 422, not database work. */
export const OneTimeToken = Type.String({ minLength: 1, maxLength: 256 })

export const ForgotPasswordBody = Type.Object({ email: Email })
export const ResetPasswordBody = Type.Object({ token: OneTimeToken, new_password: Password })
export const VerifyEmailBody = Type.Object({ token: OneTimeToken })
