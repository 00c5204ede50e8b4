import type { Db } from '../database.js'
import { columnsOf, type StatementPreparer } from '../db/prepared-statement.js'
import type { MfaChallengeRow, MfaRecoveryCodeRow, MfaTotpRow } from './mfa.table.js'

// Named, never `*`: see StatementPreparer.compile.
const TOTP_COLUMNS = columnsOf<MfaTotpRow>()(['user_id', 'secret', 'confirmed_at', 'last_used_step', 'created_at'])
const RECOVERY_CODE_COLUMNS = columnsOf<MfaRecoveryCodeRow>()(['id', 'user_id', 'salt', 'code_hash', 'used_at', 'created_at'])
const CHALLENGE_COLUMNS = columnsOf<MfaChallengeRow>()(['token_hash', 'user_id', 'client_id', 'failed_attempts', 'used_at', 'created_at', 'expires_at'])

/**
 * The statements of the second step of a sign-in (and the factor look-ups every MFA action
 * makes), built and compiled once per database: no query building per verification.
 */
export function mfaStatements (statements: StatementPreparer) {
  const totpOf = statements.compile<{ userId: string }, MfaTotpRow>('authd_mfa_totp',
    (db, slot) => db.selectFrom('mfa_totp').select(TOTP_COLUMNS).where('user_id', '=', slot('userId')))
  const recoveryCodesOf = statements.compile<{ userId: string }, MfaRecoveryCodeRow>('authd_mfa_recovery_codes',
    (db, slot) => db.selectFrom('mfa_recovery_codes').select(RECOVERY_CODE_COLUMNS).where('user_id', '=', slot('userId')))
  const challengeOf = statements.compile<{ tokenHash: string }, MfaChallengeRow>('authd_mfa_challenge',
    (db, slot) => db.selectFrom('mfa_challenges').select(CHALLENGE_COLUMNS).where('token_hash', '=', slot('tokenHash')))
  const spend = statements.compile<{ tokenHash: string, now: string, maxFailures: number }, MfaChallengeRow>('authd_mfa_spend_challenge',
    (db, slot) => db.updateTable('mfa_challenges').set({ used_at: slot('now') })
      .where('token_hash', '=', slot('tokenHash'))
      .where('used_at', 'is', null)
      .where('expires_at', '>', slot('now'))
      .where('failed_attempts', '<', slot('maxFailures'))
      .returning(CHALLENGE_COLUMNS))
  const countFailure = statements.compile<{ tokenHash: string, now: string, maxFailures: number }, { token_hash: string }>('authd_mfa_count_wrong_code',
    (db, slot) => db.updateTable('mfa_challenges').set((eb) => ({ failed_attempts: eb('failed_attempts', '+', 1) }))
      .where('token_hash', '=', slot('tokenHash'))
      .where('used_at', 'is', null)
      .where('expires_at', '>', slot('now'))
      .where('failed_attempts', '<', slot('maxFailures'))
      .returning('token_hash'))
  const useStep = statements.compile<{ userId: string, step: number }, { user_id: string }>('authd_mfa_use_totp_step',
    (db, slot) => db.updateTable('mfa_totp').set({ last_used_step: slot('step') })
      .where('user_id', '=', slot('userId'))
      .where('confirmed_at', 'is not', null)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', slot('step'))]))
      .returning('user_id'))
  return {
    async findTotp (userId: string): Promise<MfaTotpRow | undefined> {
      return (await totpOf({ userId }))[0]
    },

    listRecoveryCodes (userId: string): Promise<MfaRecoveryCodeRow[]> {
      return recoveryCodesOf({ userId })
    },

    async findChallenge (tokenHash: string): Promise<MfaChallengeRow | undefined> {
      return (await challengeOf({ tokenHash }))[0]
    },

    /**
     * Spends the challenge, in the transaction of the sign-in it completes: only a live one (not
     * used, not expired, fewer than `maxFailures` wrong codes). One statement, so of concurrent
     * verifications exactly one spends it. In the transaction of the session it opens, so the
     * success path commits once.
     */
    async spendChallenge (trx: Db | undefined, tokenHash: string, now: string, maxFailures: number): Promise<MfaChallengeRow | undefined> {
      return (await spend({ tokenHash, now, maxFailures }, trx))[0]
    },

    /**
     * Counts a wrong code against a live challenge, under the same conditions as spending it:
     * false when it is not live (spent, expired, or out of wrong codes), and the wrong code is
     * then not counted. One statement, so concurrent wrong codes cannot count past the limit.
     */
    async countWrongCode (tokenHash: string, now: string, maxFailures: number): Promise<boolean> {
      return (await countFailure({ tokenHash, now, maxFailures })).length === 1
    },

    /**
     * Records that the code of `step` was used, only if no code of this or a later step was
     * accepted before: the replay check and the write are one atomic statement.
     */
    async useTotpStep (trx: Db, userId: string, step: number): Promise<boolean> {
      return (await useStep({ userId, step }, trx)).length === 1
    }
  }
}

/** Replaces a pending (unconfirmed) set-up; a confirmed factor stays (the insert then fails on the key). */
export async function insertPendingTotp (db: Db, row: { userId: string, secret: string, now: string }): Promise<void> {
  await db.deleteFrom('mfa_totp').where('user_id', '=', row.userId).where('confirmed_at', 'is', null).execute()
  await db.insertInto('mfa_totp').values({ user_id: row.userId, secret: row.secret, confirmed_at: null, last_used_step: null, created_at: row.now }).execute()
}

/**
 * Confirms the pending set-up with the step its first code was for. One statement: of two
 * concurrent confirmations only one changes the row.
 */
export async function confirmPendingTotp (db: Db, userId: string, step: number, now: string): Promise<boolean> {
  const result = await db.updateTable('mfa_totp').set({ confirmed_at: now, last_used_step: step })
    .where('user_id', '=', userId).where('confirmed_at', 'is', null).executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export async function deleteMfaFactors (db: Db, userId: string): Promise<boolean> {
  const totp = await db.deleteFrom('mfa_totp').where('user_id', '=', userId).executeTakeFirst()
  await db.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute()
  return Number(totp.numDeletedRows) > 0
}

export async function replaceRecoveryCodes (db: Db, userId: string, codes: Array<{ id: string, salt: string, codeHash: string }>, now: string): Promise<void> {
  await db.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute()
  await db.insertInto('mfa_recovery_codes')
    .values(codes.map((c) => ({ id: c.id, user_id: userId, salt: c.salt, code_hash: c.codeHash, used_at: null, created_at: now })))
    .execute()
}

/** Marks a code used; false if it already was (a concurrent use won). */
export async function useRecoveryCode (db: Db, id: string, now: string): Promise<boolean> {
  const result = await db.updateTable('mfa_recovery_codes').set({ used_at: now })
    .where('id', '=', id).where('used_at', 'is', null).executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export async function insertChallenge (db: Db, row: MfaChallengeRow): Promise<void> {
  await db.insertInto('mfa_challenges').values(row).execute()
}

/**
 * In the transaction that spent the challenge, when the code turned out to be used up
 * meanwhile (a replay): the challenge is live again, with one more wrong code.
 */
export async function unspendAfterUsedCode (trx: Db, tokenHash: string): Promise<void> {
  await trx.updateTable('mfa_challenges')
    .set((eb) => ({ used_at: null, failed_attempts: eb('failed_attempts', '+', 1) }))
    .where('token_hash', '=', tokenHash)
    .execute()
}

export async function deleteDeadChallenges (db: Db, before: string): Promise<number> {
  const result = await db.deleteFrom('mfa_challenges').where('expires_at', '<', before).executeTakeFirst()
  return Number(result.numDeletedRows)
}
