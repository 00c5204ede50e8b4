import { Type } from '@sinclair/typebox'
import { Password } from '../users/users.schemas.js'

/** A TOTP code ("123456", spaces allowed) or a recovery code ("abcd-efgh-ijkl-mnop"). */
export const Code = Type.String({ minLength: 1, maxLength: 64, description: 'A 6-digit TOTP code, or a recovery code' })

export const PasswordBody = Type.Object({ password: Password })
export const ConfirmTotpBody = Type.Object({ code: Code })
export const DisableTotpBody = Type.Object({ password: Password, code: Code })
/** The `mfa_token` of a 403 `mfa_required`, presented with a code at /mfa/verify. */
export const MfaToken = Type.String({ minLength: 1, maxLength: 256 })
export const VerifyBody = Type.Object({
  mfa_token: MfaToken,
  code: Code
})

export const TotpSetupResponse = Type.Object({
  secret: Type.String({ description: 'Base32 TOTP secret; shown this once' }),
  otpauth_uri: Type.String({ description: 'otpauth://totp/<issuer>:<email>?secret=…&issuer=… (for a QR code)' })
}, { title: 'TotpSetup' })

export const RecoveryCodesResponse = Type.Object({
  recovery_codes: Type.Array(Type.String(), { minItems: 10, maxItems: 10, description: '10 single-use codes; shown this once' })
}, { title: 'RecoveryCodes' })
