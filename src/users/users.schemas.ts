import { Type, type Static } from '@sinclair/typebox'

export const USERNAME_PATTERN = '^[A-Za-z0-9_.-]{3,32}$'

export const Email = Type.String({ format: 'email', maxLength: 254, description: 'Trimmed and compared case-insensitively' })
export const Username = Type.String({ pattern: USERNAME_PATTERN, minLength: 3, maxLength: 32 })
/**
 * Control characters (C0 with CR/LF and TAB, DEL, C1) and the Unicode line and paragraph
 * separators: a name is one line of text, and one with line breaks could pose as a paragraph
 * of a mail or a log line of ours.
 */
const CONTROL_RANGES = '\\u0000-\\u001F\\u007F-\\u009F\\u2028\\u2029'
export const NAME_CONTROL_CHARACTERS = new RegExp(`[${CONTROL_RANGES}]`, 'u')

/**
 * A name a human gives (their display name, a passkey's name): one line of text, no control
 * character. The one definition of that rule: every schema of such a name, in the API, the
 * hosted pages' forms and the import, is made here, so that no entry point words it otherwise.
 */
export function humanName (bounds: { maxLength: number, minLength?: number }) {
  return Type.String({ ...(bounds.minLength ? { minLength: bounds.minLength } : {}), maxLength: bounds.maxLength, pattern: `^[^${CONTROL_RANGES}]*$`, description: 'One line: no control characters' })
}

export const DisplayName = humanName({ maxLength: 100 })
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
  mfa_enabled: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' })
}, { title: 'User' })

export type UserDto = Static<typeof User>

export const UserSort = Type.Union([Type.Literal('created_at'), Type.Literal('email'), Type.Literal('username'), Type.Literal('name')])
export const SortOrder = Type.Union([Type.Literal('asc'), Type.Literal('desc')])

export const ListUsersQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 }),
  search: Type.Optional(Type.String({ maxLength: 100, description: 'Case-insensitive substring of email, username or name' })),
  sort: Type.Union(UserSort.anyOf, { default: 'created_at' }),
  order: Type.Union(SortOrder.anyOf, { default: 'asc' }),
  is_active: Type.Optional(Type.Boolean()),
  mfa_enabled: Type.Optional(Type.Boolean())
})

export const UserList = Type.Object({
  items: Type.Array(User),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer()
}, { title: 'UserList' })

const RoleSlugRef = Type.String({ minLength: 1, maxLength: 32 })

export const CreateUserBody = Type.Object({
  email: Email,
  username: Username,
  password: Password,
  name: Type.Optional(Type.Union([DisplayName, Type.Null()])),
  role: Type.Optional(RoleSlugRef),
  is_active: Type.Optional(Type.Boolean()),
  is_superuser: Type.Optional(Type.Boolean()),
  is_verified: Type.Optional(Type.Boolean())
})

export const UpdateUserBody = Type.Partial(CreateUserBody)

/**
 * One user of a bulk import (operator CLI): the admin API's fields, with another system's
 * password hash instead of a password. Which hash formats are accepted is the users service's rule.
 */
export const ImportUserRow = Type.Object({
  email: Email,
  username: Username,
  hash: Type.String({ minLength: 1, maxLength: 1024 }),
  name: Type.Optional(Type.Union([DisplayName, Type.Null()])),
  role: Type.Optional(RoleSlugRef),
  is_verified: Type.Optional(Type.Boolean())
})

export type ImportUserInput = Static<typeof ImportUserRow>

// Any string: an id that is not one of ours is simply not found (404), not a validation error.
export const UserParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
