import { Type } from '@sinclair/typebox'
import { humanName } from '../users/users.schemas.js'

/** One line, no control characters: the rule of every name a human gives (users.schemas.ts). */
export const PasskeyName = humanName({ minLength: 1, maxLength: 64 })

const Base64Url = Type.String({ maxLength: 16_384, pattern: '^[A-Za-z0-9_-]*={0,2}$' })

/** `RegistrationResponseJSON` as @simplewebauthn/browser's startRegistration() returns it. */
export const RegistrationResponseJson = Type.Object({
  id: Base64Url,
  rawId: Base64Url,
  type: Type.Literal('public-key'),
  response: Type.Object({
    clientDataJSON: Base64Url,
    attestationObject: Base64Url,
    transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 }))
  }, { additionalProperties: true }),
  authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  clientExtensionResults: Type.Optional(Type.Object({}, { additionalProperties: true }))
}, { additionalProperties: true })

/** `AuthenticationResponseJSON` as startAuthentication() returns it. */
export const AuthenticationResponseJson = Type.Object({
  id: Base64Url,
  rawId: Base64Url,
  type: Type.Literal('public-key'),
  response: Type.Object({
    clientDataJSON: Base64Url,
    authenticatorData: Base64Url,
    signature: Base64Url,
    userHandle: Type.Optional(Base64Url)
  }, { additionalProperties: true }),
  authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  clientExtensionResults: Type.Optional(Type.Object({}, { additionalProperties: true }))
}, { additionalProperties: true })

export const RegisterPasskeyBody = Type.Object({ response: RegistrationResponseJson, name: Type.Optional(PasskeyName) })
export const RenamePasskeyBody = Type.Object({ name: PasskeyName })
export const PasskeySigninBody = Type.Object({ response: AuthenticationResponseJson })
export const PasskeyParams = Type.Object({ id: Type.String({ maxLength: 64 }) })

export const Passkey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()])
}, { title: 'Passkey' })

/** The WebAuthn JSON options (as @simplewebauthn/server makes them), passed through as they are. */
export const CreationOptionsJson = Type.Object({
  challenge: Type.String(),
  rp: Type.Object({ id: Type.Optional(Type.String()), name: Type.String() }, { additionalProperties: true }),
  user: Type.Object({ id: Type.String(), name: Type.String(), displayName: Type.String() }, { additionalProperties: true }),
  pubKeyCredParams: Type.Array(Type.Object({ alg: Type.Integer(), type: Type.String() })),
  timeout: Type.Optional(Type.Integer()),
  excludeCredentials: Type.Optional(Type.Array(Type.Object({ id: Type.String(), type: Type.String(), transports: Type.Optional(Type.Array(Type.String())) }))),
  authenticatorSelection: Type.Optional(Type.Object({}, { additionalProperties: true })),
  attestation: Type.Optional(Type.String()),
  extensions: Type.Optional(Type.Object({}, { additionalProperties: true })),
  hints: Type.Optional(Type.Array(Type.String()))
}, { title: 'PublicKeyCredentialCreationOptionsJSON', additionalProperties: true })

export const RequestOptionsJson = Type.Object({
  challenge: Type.String(),
  rpId: Type.Optional(Type.String()),
  timeout: Type.Optional(Type.Integer()),
  userVerification: Type.Optional(Type.String()),
  extensions: Type.Optional(Type.Object({}, { additionalProperties: true }))
}, { title: 'PublicKeyCredentialRequestOptionsJSON', additionalProperties: true })
