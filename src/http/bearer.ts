/**
 * The token of an `Authorization: Bearer <token>` header. The scheme is case-insensitive
 * (RFC 7235 §2.1, RFC 6750 §2.1): `bearer` and `BEARER` are `Bearer`. A header of another
 * scheme, or without a token, gives '' (which matches no token), so that a caller refuses it
 * as a wrong token rather than as a missing one. The one reading of that header, for the
 * access tokens (sessions/authenticate.ts) and METRICS_TOKEN (metrics/metrics.ts) alike.
 */
export function bearerToken (header: string): string {
  return /^Bearer\s+(\S*)\s*$/i.exec(header)?.[1] ?? ''
}
