import { recordAuditEvent } from '../audit/audit.repository.js'
import type { Db } from '../database.js'
import { uniqueViolationColumn } from '../db/errors.js'
import { Errors } from '../http/errors.js'
import type { Clock } from '../lib/clock.js'
import type { RoleRow } from './roles.table.js'
import { type Actor, AuditEvents } from '../audit/audit.service.js'
import { insertRole, listRoles } from './roles.repository.js'
import type { CreateRoleInput, RoleDto } from './roles.schemas.js'

function toRole (row: RoleRow): RoleDto {
  return { slug: row.slug, name: row.name, description: row.description }
}

export type RolesService = ReturnType<typeof createRolesService>

export function createRolesService (deps: { db: Db, clock: Clock }) {
  const { db, clock } = deps
  return {
    async list (): Promise<RoleDto[]> {
      return (await listRoles(db)).map(toRole)
    },

    /** Creates a role; the primary key decides a race between two identical requests. */
    async create (input: CreateRoleInput, actor: Actor): Promise<RoleDto> {
      const now = clock.now()
      return db.transaction().execute(async (trx) => {
        let row: RoleRow
        try {
          row = await insertRole(trx, { slug: input.slug, name: input.name, description: input.description ?? null, created_at: now.toISOString() })
        } catch (error) {
          if (uniqueViolationColumn(error) === 'slug') throw Errors.roleExists()
          throw error
        }
        await recordAuditEvent(trx, { type: AuditEvents.adminRoleCreate, actorId: actor.userId, ip: actor.ip, userAgent: actor.userAgent, details: { slug: row.slug }, at: now })
        return toRole(row)
      })
    }
  }
}
