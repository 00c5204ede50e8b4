import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto'

/**
 * A software WebAuthn authenticator for tests (and for the pages and bench suites): ES256 keys
 * from node:crypto, attestation "none", discoverable credentials, and real signatures over
 * authenticatorData ‖ SHA-256(clientDataJSON), so the server verifies exactly what a browser
 * and a security key would send. It produces the JSON forms @simplewebauthn/browser returns.
 */

// ---- a tiny CBOR encoder (RFC 8949): the types an attestation object and a COSE key use ----
type CborValue = number | string | Uint8Array | Map<CborValue, CborValue> | Record<string, unknown>

function cborHead (major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length])
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length])
  if (length < 0x10000) { const b = Buffer.alloc(3); b[0] = (major << 5) | 25; b.writeUInt16BE(length, 1); return b }
  const b = Buffer.alloc(5); b[0] = (major << 5) | 26; b.writeUInt32BE(length, 1); return b
}

export function cborEncode (value: CborValue): Buffer {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error('only integers')
    return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value)
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8')
    return Buffer.concat([cborHead(3, bytes.length), bytes])
  }
  if (value instanceof Uint8Array) return Buffer.concat([cborHead(2, value.length), Buffer.from(value)])
  const entries: Array<[CborValue, CborValue]> = value instanceof Map ? [...value.entries()] : Object.entries(value) as Array<[CborValue, CborValue]>
  return Buffer.concat([cborHead(5, entries.length), ...entries.flatMap(([k, v]) => [cborEncode(k), cborEncode(v)])])
}

// ---- the authenticator ----
const FLAG_UP = 0x01
const FLAG_UV = 0x04
const FLAG_BE = 0x08
const FLAG_BS = 0x10
const FLAG_AT = 0x40

export interface SoftwareCredential {
  id: string
  privateKey: KeyObject
  cosePublicKey: Buffer
  counter: number
  /** base64url user handle from the creation options. */
  userHandle: string
  rpId: string
}

export interface CreationOptions { challenge: string, rp: { id?: string, name: string }, user: { id: string } }
export interface RequestOptions { challenge: string, rpId?: string }

function b64url (bytes: Uint8Array | string): string {
  return Buffer.from(bytes).toString('base64url')
}

function sha256 (data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest()
}

export class SoftwareAuthenticator {
  readonly credentials = new Map<string, SoftwareCredential>()

  /**
   * `origin` is the page the "browser" is on; `synced` makes passkeys that report backup
   * (multiDevice, amr swk); `counting` false leaves the signature counter at 0 as many
   * platform authenticators do.
   */
  constructor (readonly options: { origin: string, synced?: boolean, counting?: boolean, userVerification?: boolean } = { origin: 'http://localhost:8000' }) {}

  private flags (attested: boolean): number {
    let flags = FLAG_UP
    if (this.options.userVerification !== false) flags |= FLAG_UV
    if (this.options.synced) flags |= FLAG_BE | FLAG_BS
    if (attested) flags |= FLAG_AT
    return flags
  }

  private authData (rpId: string, flags: number, counter: number, attested?: Buffer): Buffer {
    const head = Buffer.alloc(37)
    sha256(rpId).copy(head, 0)
    head[32] = flags
    head.writeUInt32BE(counter, 33)
    return attested ? Buffer.concat([head, attested]) : head
  }

  /** navigator.credentials.create(): a new ES256 key pair; the RegistrationResponseJSON. */
  createCredential (options: CreationOptions, overrides: { origin?: string, rpId?: string } = {}) {
    const rpId = overrides.rpId ?? options.rp.id ?? new URL(this.options.origin).hostname
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const jwk = publicKey.export({ format: 'jwk' })
    const cosePublicKey = cborEncode(new Map<CborValue, CborValue>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, Buffer.from(jwk.x!, 'base64url')],
      [-3, Buffer.from(jwk.y!, 'base64url')]
    ]))
    const credentialId = randomBytes(32)
    const idLength = Buffer.alloc(2)
    idLength.writeUInt16BE(credentialId.length)
    const attested = Buffer.concat([Buffer.alloc(16) /* aaguid: none */, idLength, credentialId, cosePublicKey])
    const authData = this.authData(rpId, this.flags(true), 0, attested)
    const clientDataJSON = JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin: overrides.origin ?? this.options.origin, crossOrigin: false })
    const attestationObject = cborEncode({ fmt: 'none', attStmt: {}, authData })
    const id = b64url(credentialId)
    this.credentials.set(id, { id, privateKey, cosePublicKey, counter: 0, userHandle: options.user.id, rpId })
    return {
      id,
      rawId: id,
      type: 'public-key' as const,
      response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ['internal'] },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {}
    }
  }

  /**
   * navigator.credentials.get() for a discoverable sign-in: the AuthenticationResponseJSON of
   * one of our credentials (the only one unless `credentialId` says which).
   */
  getAssertion (options: RequestOptions, overrides: { credentialId?: string, origin?: string, challenge?: string, counter?: number, userHandle?: string | null } = {}) {
    const credential = overrides.credentialId ? this.credentials.get(overrides.credentialId) : [...this.credentials.values()].at(-1)
    if (!credential) throw new Error('no such credential on this authenticator')
    if (this.options.counting !== false) credential.counter += 1
    const counter = overrides.counter ?? (this.options.counting === false ? 0 : credential.counter)
    const authData = this.authData(options.rpId ?? credential.rpId, this.flags(false), counter)
    const clientDataJSON = JSON.stringify({ type: 'webauthn.get', challenge: overrides.challenge ?? options.challenge, origin: overrides.origin ?? this.options.origin, crossOrigin: false })
    // ES256: ECDSA P-256 over authenticatorData ‖ SHA-256(clientDataJSON), DER-encoded.
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), credential.privateKey)
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(overrides.userHandle === null ? {} : { userHandle: overrides.userHandle ?? credential.userHandle })
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {}
    }
  }
}

/** A challenge no server issued, in the form servers use (32 random bytes, base64url). */
export function foreignChallenge (): string {
  return randomBytes(32).toString('base64url')
}
