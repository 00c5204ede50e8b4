import { createHmac, createSecretKey, KeyObject, sign as cryptoSign } from 'node:crypto'
import { decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, jwtVerify, type JWK } from 'jose'
import { LRUCache } from 'lru-cache'
import { entriesBound } from '../lib/bounded-cache.js'
import type { Config, JwtAlgorithm } from '../config/index.js'
import type { Db } from '../database.js'
import { type Clock, toDate } from '../lib/clock.js'
import { newId, randomToken, sha256 } from '../lib/crypto.js'
import { KEY_PUBLICATION_LEAD_MS } from './key-timeline.js'
import { insertSigningKey, listSigningKeys, retireSigningKeysExcept } from './signing-keys.repository.js'

/** The claims of an access token: a JWT profile for OAuth 2.0 access tokens (RFC 9068). */
export interface AccessClaims {
  iss: string
  sub: string
  aud: string
  /** The OAuth client the token was issued to (RFC 9068 §2.2). */
  client_id: string
  iat: number
  exp: number
  jti: string
  /** How the user authenticated in this session (RFC 8176 values, e.g. `pwd`, `otp`, `hwk`). */
  amr: string[]
  sid: string
  role: string
  email: string
}

/** What the caller knows about the token's subject; the signer adds iss, aud, iat, exp and jti. */
export interface AccessTokenSubject {
  sub: string
  sid: string
  role: string
  email: string
  clientId: string
  /** RFC 8176 methods of the session: set where the session records how it was opened. */
  amr: readonly string[]
}

/** Seconds an `iat` may lie ahead of our clock (another instance's clock may run a little fast). */
export const IAT_CLOCK_SKEW_SECONDS = 30

/**
 * The one place that decides what an access token says. A new claim goes here, so every
 * entry point (sign-in, refresh, the token endpoint, second factors) issues the same shape.
 */
export function accessTokenClaims (subject: AccessTokenSubject, context: { issuer: string, audience: string, issuedAt: number, ttlSeconds: number }): AccessClaims {
  return {
    iss: context.issuer,
    sub: subject.sub,
    aud: context.audience,
    client_id: subject.clientId,
    iat: context.issuedAt,
    exp: context.issuedAt + context.ttlSeconds,
    jti: randomToken(16),
    amr: [...subject.amr],
    sid: subject.sid,
    role: subject.role,
    email: subject.email
  }
}

type Key = Awaited<ReturnType<typeof importJWK>> | KeyObject
interface LoadedKey {
  kid: string
  alg: JwtAlgorithm
  /** A node:crypto key: signing goes through node:crypto directly (see `signCompact`). */
  privateKey: KeyObject
  publicKey: Key
  publicJwk?: JWK
  /** Epoch ms from which this key signs; it is published (and verifies) from its creation. */
  activatesAt: number
  /** Epoch ms from which a newer key signs instead (may lie ahead), or undefined. */
  retiresAt: number | undefined
  /** The protected header, already encoded: it is the same for every token of this key. */
  encodedHeader: string
}

export interface TokenSigner {
  readonly algorithm: JwtAlgorithm
  signAccessToken: (subject: AccessTokenSubject) => Promise<{ token: string, expiresIn: number }>
  /** The verified claims, or undefined for any token we did not issue or that has expired. */
  verifyAccessToken: (token: string) => Promise<AccessClaims | undefined>
  /** Public keys for `/.well-known/jwks.json` (empty with a shared secret). */
  jwks: () => { keys: JWK[] }
  /**
   * Publishes a new signing key that takes over after the publication lead time
   * (`key-timeline.ts`); older ones keep verifying until their tokens expire.
   */
  rotate: () => Promise<string>
  /** Re-reads keys from the database (another instance may have rotated). */
  reload: () => Promise<void>
}

/** Headers that would let a token name its own verification key: never honoured. */
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c']
const SECRET_KID = 'jwt-secret'

function encodedHeaderOf (alg: JwtAlgorithm, kid: string): string {
  return Buffer.from(JSON.stringify({ alg, kid, typ: 'at+jwt' })).toString('base64url')
}

function toKeyObject (key: Key): KeyObject {
  if (key instanceof KeyObject) return key
  if (key instanceof Uint8Array) return createSecretKey(key)
  return KeyObject.from(key)
}

/**
 * Signs a JWS in compact form (RFC 7515) with node:crypto's synchronous one-shot functions.
 * jose signs through WebCrypto, whose promise-based job costs several times the signature
 * itself; sign-in, sign-up and every refresh mint a token, so this is on their hot path.
 * Verification stays with jose (`jwtVerify`), where the parsing rules matter.
 */
function signCompact (key: LoadedKey, payload: Record<string, unknown>): string {
  const signingInput = `${key.encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`
  let signature: string
  if (key.alg === 'HS256') signature = createHmac('sha256', key.privateKey).update(signingInput).digest('base64url')
  else if (key.alg === 'EdDSA') signature = cryptoSign(null, Buffer.from(signingInput), key.privateKey).toString('base64url')
  // RS256 is RSASSA-PKCS1-v1_5 with SHA-256, node:crypto's default padding for RSA keys.
  else signature = cryptoSign('sha256', Buffer.from(signingInput), key.privateKey).toString('base64url')
  return `${signingInput}.${signature}`
}

async function generateKey (alg: 'EdDSA' | 'RS256', now: Date, activatesAt: Date) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : { modulusLength: 2048 }) })
  const kid = newId()
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg }
  return { kid, alg, private_jwk: JSON.stringify(privateJwk), public_jwk: JSON.stringify(publicJwk), created_at: now.toISOString(), activates_at: activatesAt.toISOString(), retired_at: null }
}

export async function createTokenSigner (deps: { db: Db, config: Config, clock: Clock }): Promise<TokenSigner> {
  const { db, config, clock } = deps
  const { algorithm, issuer, audience, accessTtlSeconds } = config.tokens
  let keys = new Map<string, LoadedKey>()
  /** Loaded keys, latest activation first: the signing key is picked from it at signing time. */
  let byActivation: LoadedKey[] = []

  // Verified tokens are immutable facts until they expire: remember them so the hot path of
  // an authenticated request costs a hash and a map look-up instead of a signature check.
  // Revocation is not decided here but by the session check that follows every verification.
  const verified = new LRUCache<string, AccessClaims>(entriesBound(50_000))

  async function load (): Promise<void> {
    if (algorithm === 'HS256') {
      const secret = createSecretKey(Buffer.from(config.tokens.jwtSecret ?? ''))
      const only: LoadedKey = { kid: SECRET_KID, alg: 'HS256', privateKey: secret, publicKey: secret, activatesAt: 0, retiresAt: undefined, encodedHeader: encodedHeaderOf('HS256', SECRET_KID) }
      keys = new Map([[SECRET_KID, only]])
      byActivation = [only]
      return
    }
    let rows = (await listSigningKeys(db)).filter((row) => row.alg === algorithm)
    if (rows.length === 0) {
      // The first key signs at once: no token exists yet, so no verifier can hold a stale key set.
      await insertSigningKey(db, await generateKey(algorithm, clock.now(), clock.now()))
      // Re-read: another instance starting at the same time may have inserted its own key;
      // all instances then sign with the newest, in the same order.
      rows = (await listSigningKeys(db)).filter((row) => row.alg === algorithm)
    }
    const loaded = new Map<string, LoadedKey>()
    for (const row of rows) {
      const publicJwk = JSON.parse(row.public_jwk) as JWK
      loaded.set(row.kid, {
        kid: row.kid,
        alg: algorithm,
        privateKey: toKeyObject(await importJWK(JSON.parse(row.private_jwk) as JWK, algorithm)),
        publicKey: await importJWK(publicJwk, algorithm),
        publicJwk,
        activatesAt: toDate(row.activates_at ?? row.created_at).getTime(),
        retiresAt: row.retired_at === null ? undefined : toDate(row.retired_at).getTime(),
        encodedHeader: encodedHeaderOf(algorithm, row.kid)
      })
    }
    keys = loaded
    // Ties on activation fall back to the order of the rows (newest first), the same on every instance.
    byActivation = [...loaded.values()].sort((a, b) => b.activatesAt - a.activatesAt)
  }

  /**
   * The key to sign with now: the latest activated key that is not yet retired. Chosen by time
   * on every call, so every instance switches at the activation time without a reload. With
   * none (two instances rotated at once and retired each other's key), the latest activated
   * still signs: it is published, and the next maintenance pass rotates again.
   */
  function signingKey (nowMs: number): LoadedKey {
    const activated = byActivation.filter((key) => key.activatesAt <= nowMs)
    return activated.find((key) => key.retiresAt === undefined || key.retiresAt > nowMs) ??
      activated[0] ?? byActivation[byActivation.length - 1]!
  }

  await load()
  let lastReload = Date.now()

  async function keyFor (kid: string | undefined): Promise<LoadedKey | undefined> {
    if (kid === undefined) return undefined
    let key = keys.get(kid)
    // An unknown kid may come from a key another instance just made: re-read, at most once a second.
    if (!key && algorithm !== 'HS256' && Date.now() - lastReload > 1000) {
      lastReload = Date.now()
      await load()
      key = keys.get(kid)
    }
    return key
  }

  return {
    algorithm,
    async signAccessToken (subject) {
      const nowMs = clock.now().getTime()
      const claims = accessTokenClaims(subject, { issuer, audience, issuedAt: Math.floor(nowMs / 1000), ttlSeconds: accessTtlSeconds })
      const token = signCompact(signingKey(nowMs), claims as unknown as Record<string, unknown>)
      return { token, expiresIn: accessTtlSeconds }
    },

    async verifyAccessToken (token) {
      if (token.length > 4096) return undefined
      // Each signature has one base64url spelling. Decoders ignore the unused low bits of the
      // last character, so without this a token altered there would still verify.
      const signature = token.slice(token.lastIndexOf('.') + 1)
      if (Buffer.from(signature, 'base64url').toString('base64url') !== signature) return undefined
      const cacheKey = sha256(token)
      const nowSeconds = clock.now().getTime() / 1000
      const cached = verified.get(cacheKey)
      if (cached) return cached.exp > nowSeconds ? cached : undefined
      try {
        const header = decodeProtectedHeader(token)
        if (header.alg !== algorithm) return undefined
        if (FORBIDDEN_HEADERS.some((name) => name in header)) return undefined
        const key = await keyFor(header.kid)
        if (!key) return undefined
        const { payload } = await jwtVerify(token, key.publicKey, {
          algorithms: [algorithm],
          issuer,
          audience,
          typ: 'at+jwt',
          currentDate: clock.now(),
          requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp', 'aud', 'client_id', 'amr']
        })
        // jose checks `iat` only against a maximum age: a token "issued" in the future (a forged
        // or mis-clocked issuer's) is refused here, beyond a small skew between instances.
        if (payload.iat! > nowSeconds + IAT_CLOCK_SKEW_SECONDS) return undefined
        if (typeof payload.sid !== 'string' || typeof payload.role !== 'string' || typeof payload.email !== 'string') return undefined
        if (typeof payload.client_id !== 'string') return undefined
        if (!Array.isArray(payload.amr) || !payload.amr.every((method) => typeof method === 'string')) return undefined
        const claims = payload as unknown as AccessClaims
        verified.set(cacheKey, claims, { ttl: Math.max(1, (claims.exp - nowSeconds) * 1000) })
        return claims
      } catch {
        return undefined
      }
    },

    jwks () {
      return { keys: [...keys.values()].flatMap((key) => key.publicJwk ? [key.publicJwk] : []) }
    },

    async rotate () {
      if (algorithm === 'HS256') throw new Error('A shared JWT_SECRET cannot be rotated by the service')
      const now = clock.now()
      const activatesAt = new Date(now.getTime() + KEY_PUBLICATION_LEAD_MS)
      const row = await generateKey(algorithm, now, activatesAt)
      await insertSigningKey(db, row)
      // The keys signing now retire when the new one activates, not before.
      await retireSigningKeysExcept(db, row.kid, activatesAt.toISOString())
      await load()
      return row.kid
    },

    async reload () {
      await load()
      lastReload = Date.now()
    }
  }
}
