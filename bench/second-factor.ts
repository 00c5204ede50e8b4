// The pools of single-use credentials that the `mfa_verify` and `passkey_signin` scenarios
// spend: each request needs something that only works once (an mfa_token and a TOTP time step;
// a WebAuthn challenge), so each phase gets fresh ones, made before it is timed.
import type { Insertable, Kysely } from 'kysely'
import type { Database } from '../src/database.js'
import { newId, randomToken, sha256 } from '../src/lib/crypto.js'
import { createSecretBox } from '../src/lib/secret-box.js'
import { newTotpSecret } from '../src/mfa/totp.js'
import { totpCode } from '../test/helpers/totp.js'
import { SoftwareAuthenticator } from '../test/helpers/webauthn.js'

/** Rows per multi-row insert: SQLite takes 32,766 parameters per statement, a user row has 14. */
const ROWS_PER_INSERT = 1000

export interface TotpSignin { mfaToken: string, secret: string }

/**
 * `count` accounts with TOTP confirmed, each with one live mfa_token: what `/signin` leaves
 * behind after a right password, written straight to the database so that the password step
 * (an argon2id hash) is not part of the measure. The secrets are sealed with the service's
 * DATA_ENCRYPTION_KEY, bound to their user as the service binds them. One verification per
 * account: a TOTP step is accepted once per account, so none is replayed.
 */
export async function seedTotpSignins (db: Kysely<Database>, count: number, dataKey: Buffer, tag: string): Promise<TotpSignin[]> {
  const box = createSecretBox(dataKey)
  const now = new Date()
  const at = now.toISOString()
  const expires = new Date(now.getTime() + 290_000).toISOString()
  // Nobody signs in to these accounts with a password: any well-formed hash will do.
  const passwordHash = '$argon2id$v=19$m=19456,t=2,p=1$c2VlZGVkc2VlZGVk$' + 'A'.repeat(43)
  const out: TotpSignin[] = []
  for (let from = 0; from < count; from += ROWS_PER_INSERT) {
    const users: Array<Insertable<Database['users']>> = []
    const factors: Array<Insertable<Database['mfa_totp']>> = []
    const challenges: Array<Insertable<Database['mfa_challenges']>> = []
    for (let i = from; i < Math.min(count, from + ROWS_PER_INSERT); i++) {
      const id = newId()
      const secret = newTotpSecret()
      const mfaToken = randomToken(32)
      const username = `mfa_${tag}_${i}`
      users.push({ id, email: `${username}@example.com`, username, username_lower: username, name: null, password_hash: passwordHash, role: 'member', is_active: 1, is_superuser: 0, is_verified: 1, is_primary: 0, mfa_enabled: 1, password_changed_at: at, created_at: at, updated_at: at })
      factors.push({ user_id: id, secret: box.seal(secret, id), confirmed_at: at, last_used_step: null, created_at: at })
      challenges.push({ token_hash: sha256(mfaToken), user_id: id, failed_attempts: 0, used_at: null, created_at: at, expires_at: expires })
      out.push({ mfaToken, secret })
    }
    // This process writes the service's SQLite file while the service does: a transaction
    // that read a snapshot another commit then made stale fails with SQLITE_BUSY_SNAPSHOT,
    // which no busy timeout waits out. Try the batch again.
    for (let attempt = 1; ; attempt++) {
      try {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('users').values(users).execute()
          await trx.insertInto('mfa_totp').values(factors).execute()
          await trx.insertInto('mfa_challenges').values(challenges).execute()
        })
        break
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'SQLITE_BUSY_SNAPSHOT' || attempt === 20) throw error
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
  }
  return out
}

/** The body of one `/mfa/verify`, with the code of the time step it is sent in. */
export function totpVerifyBody (signin: TotpSignin): string {
  return JSON.stringify({ mfa_token: signin.mfaToken, code: totpCode(signin.secret, new Date()) })
}

interface Json { [key: string]: any }

async function post (url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Json> {
  const response = await fetch(`${url}/api/v1/auth${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`)
  return response.json() as Promise<Json>
}

/**
 * Passkeys for the given accounts, registered over HTTP as a browser would, on one software
 * authenticator. It keeps its signature counters at 0, as many platform authenticators do, so
 * assertions signed ahead of time can be spent in any order.
 */
export async function registerPasskeys (url: string, origin: string, accessTokens: readonly string[]): Promise<SoftwareAuthenticator> {
  const authenticator = new SoftwareAuthenticator({ origin, counting: false })
  for (const accessToken of accessTokens) {
    const authorization = { authorization: `Bearer ${accessToken}` }
    const options = await post(url, '/passkeys/register/options', {}, authorization)
    await post(url, '/passkeys/register', { response: authenticator.createCredential(options as never) }, authorization)
  }
  return authenticator
}

/**
 * `count` bodies for POST /passkeys/signin, each the signed answer to a challenge of its own
 * fetched from /passkeys/signin/options (several at a time), cycling over the credentials.
 */
export async function passkeySigninBodies (url: string, authenticator: SoftwareAuthenticator, count: number): Promise<string[]> {
  const credentials = [...authenticator.credentials.keys()]
  const bodies: string[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const n = next++
      const options = await post(url, '/passkeys/signin/options', {})
      const assertion = authenticator.getAssertion(options as never, { credentialId: credentials[n % credentials.length]! })
      bodies.push(JSON.stringify({ response: assertion }))
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  return bodies
}

/**
 * How many single-use credentials a phase needs: the rate seen so far (or a first guess)
 * times the phase's length, with a margin, so that the pool does not run dry while timed.
 * The margin is wide: the warm-up runs on a cold JIT (and on a shared machine), and timed
 * runs went twice as fast as their warm-up; a dry pool answers cheap 422s, which count as
 * neither the scenario's requests nor its work.
 */
export function poolSize (seenRate: number | undefined, seconds: number): number {
  return Math.ceil((seenRate ?? 3000) * seconds * 3) + 500
}
