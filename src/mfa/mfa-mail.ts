import type { Config } from '../config/index.js'
import type { Db } from '../database.js'
import type { Clock } from '../lib/clock.js'
import { newId } from '../lib/crypto.js'
import { enqueueMail } from '../mail/outbox.repository.js'
import { templates } from '../mail/templates/templates.js'
import type { UserRow } from '../users/users.table.js'

export type MfaMailKind = 'mfa_enabled' | 'mfa_disabled' | 'mfa_reset' | 'mfa_recovery_codes_regenerated' | 'passkey_added' | 'passkey_removed'

/**
 * Tells the account's owner that a way into it changed (its second factor, its recovery
 * codes, its passkeys), so that a change they did not make does not go unseen; written to the outbox in the
 * caller's transaction. The address may not be verified yet: such a mail carries no text the
 * account's creator chose (no name), since that person may not own the address.
 */
export async function enqueueMfaMail (trx: Db, deps: { config: Config, clock: Clock }, user: UserRow, kind: MfaMailKind): Promise<void> {
  const rendered = templates[kind]({
    name: user.is_verified === 1 ? user.name : null,
    forgotUrl: `${deps.config.publicUrl}/forgot-password`
  })
  await enqueueMail(trx, { id: newId(), template: kind, recipient: user.email, rendered, now: deps.clock.now().toISOString() })
}
