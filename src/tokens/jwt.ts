import { createHmac, createSecretKey, KeyObject, sign as cryptoSign } from 'node:crypto'
import { decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, jwtVerify, type JWK } from 'jose'
import { LRUCache } from 'lru-cache'
import type { Config, JwtAlgorithm } from '../config/index.js'
import type { Db } from '../database.js'
import type { Clock } from '../lib/clock.js'
import { newId, randomToken, sha256 } from '../lib/crypto.js'
import { insertSigningKey, listSigningKeys, retireSigningKeysExcept } from './signing-keys.repository.js'

export interface AccessClaims {
  sub: string
  sid: string
  jti: string
  iat: number
  exp: number
  iss: string
  role: string
  email: string
  /** RFC 8176 authentication methods of the session (absent in tokens minted before it existed). */
  amr?: string[]
}

type Key = Awaited<ReturnType<typeof importJWK>> | KeyObject
interface LoadedKey {
  kid: string
  alg: JwtAlgorithm
  /** A node:crypto key: signing goes through node:crypto directly (see `signCompact`). */
  privateKey: KeyObject
  publicKey: Key
  publicJwk?: JWK
  retired: boolean
  /** The protected header, already encoded: it is the same for every token of this key. */
  encodedHeader: string
}

export interface TokenSigner {
  readonly algorithm: JwtAlgorithm
  signAccessToken: (claims: { sub: string, sid: string, role: string, email: string, amr: readonly string[] }) => Promise<{ token: string, expiresIn: number }>
  /** The verified claims, or undefined for any token we did not issue or that has expired. */
  verifyAccessToken: (token: string) => Promise<AccessClaims | undefined>
  /** Public keys for `/.well-known/jwks.json` (empty with a shared secret). */
  jwks: () => { keys: JWK[] }
  /** Generates a new signing key; older ones keep verifying until their tokens expire. */
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

async function generateKey (alg: 'EdDSA' | 'RS256', now: Date) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : { modulusLength: 2048 }) })
  const kid = newId()
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg }
  return { kid, alg, private_jwk: JSON.stringify(privateJwk), public_jwk: JSON.stringify(publicJwk), created_at: now.toISOString(), retired_at: null }
}

export async function createTokenSigner (deps: { db: Db, config: Config, clock: Clock }): Promise<TokenSigner> {
  const { db, config, clock } = deps
  const { algorithm, issuer, accessTtlSeconds } = config.tokens
  let keys = new Map<string, LoadedKey>()
  let current: LoadedKey

  // Verified tokens are immutable facts until they expire: remember them so the hot path of
  // an authenticated request costs a hash and a map look-up instead of a signature check.
  // Revocation is not decided here but by the session check that follows every verification.
  const verified = new LRUCache<string, AccessClaims>({ max: 50_000 })

  async function load (): Promise<void> {
    if (algorithm === 'HS256') {
      const secret = createSecretKey(Buffer.from(config.tokens.jwtSecret ?? ''))
      current = { kid: SECRET_KID, alg: 'HS256', privateKey: secret, publicKey: secret, retired: false, encodedHeader: encodedHeaderOf('HS256', SECRET_KID) }
      keys = new Map([[SECRET_KID, current]])
      return
    }
    let rows = (await listSigningKeys(db)).filter((row) => row.alg === algorithm)
    if (rows.length === 0) {
      await insertSigningKey(db, await generateKey(algorithm, clock.now()))
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
        retired: row.retired_at !== null,
        encodedHeader: encodedHeaderOf(algorithm, row.kid)
      })
    }
    keys = loaded
    const newestActive = rows.find((row) => row.retired_at === null) ?? rows[0]
    current = loaded.get(newestActive!.kid)!
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
    async signAccessToken (claims) {
      const issuedAt = Math.floor(clock.now().getTime() / 1000)
      const token = signCompact(current, {
        sid: claims.sid,
        role: claims.role,
        email: claims.email,
        amr: claims.amr,
        sub: claims.sub,
        jti: randomToken(16),
        iss: issuer,
        iat: issuedAt,
        exp: issuedAt + accessTtlSeconds
      })
      return { token, expiresIn: accessTtlSeconds }
    },

    async verifyAccessToken (token) {
      if (token.length > 4096) return undefined
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
          currentDate: clock.now(),
          requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp']
        })
        if (typeof payload.sid !== 'string' || typeof payload.role !== 'string' || typeof payload.email !== 'string') return undefined
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
      const row = await generateKey(algorithm, clock.now())
      await insertSigningKey(db, row)
      await retireSigningKeysExcept(db, row.kid, clock.now().toISOString())
      await load()
      return row.kid
    },

    async reload () {
      await load()
      lastReload = Date.now()
    }
  }
}
