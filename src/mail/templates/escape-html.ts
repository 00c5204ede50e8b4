const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** User-supplied values (names, addresses) arrive in HTML as text, never as markup. */
export function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c]!)
}
