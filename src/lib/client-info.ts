/** Where a request came from, as sessions and audit events record it. */
export interface ClientInfo { ip: string | null, userAgent: string | null }
