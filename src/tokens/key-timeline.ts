/**
 * The timeline of a signing key, chosen so that no verifier ever meets a token whose key it
 * has not seen, even one that caches the JWKS for the whole `max-age` we send:
 *
 *   created (published) ──lead──▶ activates (signs) ──▶ retired (next key activates)
 *     ──access-token TTL + grace──▶ deleted (unpublished)
 *
 * - lead = JWKS max-age + two maintenance intervals. A verifier's cached copy is at most
 *   max-age old, and an instance learns of a key made elsewhere within one interval (its next
 *   reload), so the copy it serves is at most that much behind; the second interval is margin
 *   for clock skew and a slow pass.
 * - A retired key stays published until the last token it signed has expired (access TTL) plus
 *   the same two intervals, for instances that switched late.
 */

/** `Cache-Control: max-age` of `/.well-known/jwks.json`. */
export const JWKS_MAX_AGE_SECONDS = 300

/** How often each instance re-reads the key set, rotates when due and prunes. */
export const KEY_MAINTENANCE_INTERVAL_MS = 60_000

/** How long a new key is published before any instance signs with it. */
export const KEY_PUBLICATION_LEAD_MS = JWKS_MAX_AGE_SECONDS * 1000 + 2 * KEY_MAINTENANCE_INTERVAL_MS

/** How long a retired key stays published after it stopped signing. */
export function retiredKeyGraceMs (accessTtlSeconds: number): number {
  return accessTtlSeconds * 1000 + 2 * KEY_MAINTENANCE_INTERVAL_MS
}
