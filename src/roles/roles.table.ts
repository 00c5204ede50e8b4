export interface RolesTable {
  slug: string
  name: string
  description: string | null
  created_at: string | Date
}

export type RoleRow = RolesTable
