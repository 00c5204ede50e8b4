/** Where the pages send a user when `return_to` is missing or refused. */
export const DEFAULT_RETURN_TO = '/account'

/**
 * The `return_to` to redirect to after sign-in, or `/account`. Accepted: an absolute http(s)
 * URL whose origin is allowed (ALLOWED_ORIGINS, or this service's own), or a path on this
 * service. Refused: other origins, scheme-relative `//host`, `javascript:` and other schemes,
 * backslashes (browsers read `/\host` as `//host`), user-info (`https://allowed@evil`),
 * whitespace and control characters (which URL parsers strip or read differently).
 * The answer is the parser's own serialisation of what was checked, never the raw input, so
 * the browser cannot read the Location header differently from this check.
 */
export function safeReturnTo (raw: unknown, options: { publicUrl: string, allowedOrigins: readonly string[] }): string {
  if (typeof raw !== 'string' || raw === '' || raw.length > 2048) return DEFAULT_RETURN_TO
  // \s covers tabs and newlines, which the WHATWG parser silently removes ("/\t/evil" → "//evil").
  if (/[\\\s\p{Cc}]/u.test(raw)) return DEFAULT_RETURN_TO
  const relative = !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(raw)
  // A relative reference must be a path: not "//host", not "host/…" or "?…" guesses.
  if (relative && (!raw.startsWith('/') || raw.startsWith('//'))) return DEFAULT_RETURN_TO
  let url: URL
  try {
    url = new URL(raw, options.publicUrl)
  } catch {
    return DEFAULT_RETURN_TO
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return DEFAULT_RETURN_TO
  if (url.username !== '' || url.password !== '') return DEFAULT_RETURN_TO
  const own = new URL(options.publicUrl).origin
  if (url.origin !== own && !options.allowedOrigins.includes(url.origin)) return DEFAULT_RETURN_TO
  // Always absolute: a same-origin path such as "//evil.example" would read as another host.
  return url.href
}
