/**
 * Every event type the service records: stable strings, filterable by `type`. One naming rule:
 * `<subject>.<what happened>` in lower_snake segments, and administrative actions (a superuser,
 * the operator CLI or ADMIN_EMAIL) prefixed `admin.` as `admin.<resource>.<action>`.
 */
export const AuditEvents = {
  signinSuccess: 'signin.success',
  signinFailure: 'signin.failure',
  /** A sign-in refused by the rate limits (per IP or per account): the lockout. */
  signinLockedOut: 'signin.locked_out',
  logout: 'logout',
  logoutAll: 'logout.all',
  sessionRevoked: 'session.revoked',
  refreshReuseDetected: 'refresh.reuse_detected',
  passwordChanged: 'password.changed',
  /** For the recovery flows: record with `audit.record(AuditEvents.passwordReset, …)`. */
  passwordReset: 'password.reset',
  emailVerified: 'email.verified',
  adminUserCreate: 'admin.user.create',
  adminUserUpdate: 'admin.user.update',
  adminUserDelete: 'admin.user.delete',
  adminRoleCreate: 'admin.role.create',
  adminPrimaryCreate: 'admin.primary.create',
  adminPrimaryPromote: 'admin.primary.promote'
} as const

export type AuditEventType = typeof AuditEvents[keyof typeof AuditEvents]
