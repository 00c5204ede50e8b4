/**
 * The one normalisation of an email address (API.md: trimmed, compared case-insensitively,
 * stored lower-cased). Everything that stores, looks up, counts or audits an email uses it.
 */
export function normalizeEmail (email: string): string {
  return email.trim().toLowerCase()
}
