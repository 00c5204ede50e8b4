import { Type, type Static } from '@sinclair/typebox'

export const RoleSlug = Type.String({ pattern: '^[a-z][a-z0-9_-]{1,31}$', description: 'Lower-case identifier, 2–32 characters' })

export const Role = Type.Object({
  slug: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()])
}, { title: 'Role' })

export const CreateRoleBody = Type.Object({
  slug: RoleSlug,
  name: Type.String({ minLength: 1, maxLength: 100 }),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()]))
})

export type RoleDto = Static<typeof Role>
export type CreateRoleInput = Static<typeof CreateRoleBody>
