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
  // Two-step verification and passkeys
  mfaEnabled: 'mfa.enabled',
  mfaDisabled: 'mfa.disabled',
  /** A wrong (or replayed: `details.reason`) code at the second step or while managing the factor. */
  mfaCodeFailed: 'mfa.code_failed',
  mfaRecoveryCodeUsed: 'mfa.recovery_code_used',
  mfaRecoveryCodesRegenerated: 'mfa.recovery_codes_regenerated',
  passkeyAdded: 'passkey.added',
  passkeyRenamed: 'passkey.renamed',
  passkeyRemoved: 'passkey.removed',
  /** Every passkey sign-in attempt, with `details.outcome`. */
  passkeySignin: 'passkey.signin',
  adminUserCreate: 'admin.user.create',
  adminUserUpdate: 'admin.user.update',
  adminUserDelete: 'admin.user.delete',
  /** Two-step verification turned off by a superuser or the operator CLI (lost device). */
  adminUserMfaReset: 'admin.user.mfa_reset',
  adminRoleCreate: 'admin.role.create',
  adminPrimaryCreate: 'admin.primary.create',
  adminPrimaryPromote: 'admin.primary.promote'
} as const

export type AuditEventType = typeof AuditEvents[keyof typeof AuditEvents]
