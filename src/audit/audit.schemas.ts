import { Type } from '@sinclair/typebox'

export const AuditQuery = Type.Object({
  user_id: Type.Optional(Type.String({ maxLength: 64 })),
  type: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 })
}, { additionalProperties: false })

export const AuditEvent = Type.Object({
  id: Type.String(),
  type: Type.String(),
  user_id: Type.Union([Type.String(), Type.Null()]),
  actor_id: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  created_at: Type.String({ format: 'date-time' })
}, { title: 'AuditEvent' })

export const AuditPage = Type.Object({
  items: Type.Array(AuditEvent),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer()
}, { title: 'AuditEventPage' })
