import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/**
 * Encryption at rest of small secrets (the TOTP seeds) with AES-256-GCM. A stored value is
 * `v1.<iv>.<ciphertext>.<tag>` (base64url); without a key it is `plain.<value>`, so a key
 * configured later still reads what was stored before it. The associated data binds each
 * ciphertext to its owner (e.g. the user id): a row copied onto another user does not decrypt.
 */
export interface SecretBox {
  readonly encrypting: boolean
  seal: (plaintext: string, associatedData: string) => string
  /** The plaintext, or undefined when the value is not ours (tampered, other key, other owner). */
  open: (stored: string, associatedData: string) => string | undefined
}

const IV_BYTES = 12

export function createSecretBox (key: Buffer | undefined): SecretBox {
  if (key !== undefined && key.length !== 32) throw new Error('AES-256-GCM needs a 32-byte key')
  return {
    encrypting: key !== undefined,
    seal (plaintext, associatedData) {
      if (!key) return `plain.${plaintext}`
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(Buffer.from(associatedData))
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return ['v1', iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.')
    },
    open (stored, associatedData) {
      if (stored.startsWith('plain.')) return stored.slice('plain.'.length)
      const [version, iv, ciphertext, tag] = stored.split('.')
      if (version !== 'v1' || !key || iv === undefined || ciphertext === undefined || tag === undefined) return undefined
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
        decipher.setAAD(Buffer.from(associatedData))
        decipher.setAuthTag(Buffer.from(tag, 'base64url'))
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8')
      } catch {
        return undefined
      }
    }
  }
}
