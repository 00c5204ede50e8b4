import { Type, type Static } from '@sinclair/typebox'

export const USERNAME_PATTERN = '^[A-Za-z0-9_.-]{3,32}$'

export const Email = Type.String({ format: 'email', maxLength: 254, description: 'Trimmed and compared case-insensitively' })
export const Username = Type.String({ pattern: USERNAME_PATTERN, minLength: 3, maxLength: 32 })
export const DisplayName = Type.String({ maxLength: 100 })
/** Length is checked by the password policy (after NFKC), so this only bounds the payload. */
export const Password = Type.String({ minLength: 1, maxLength: 1024 })

export const User = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  username: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  role: Type.String(),
  is_active: Type.Boolean(),
  is_superuser: Type.Boolean(),
  is_verified: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' })
}, { title: 'User' })

export type UserDto = Static<typeof User>
