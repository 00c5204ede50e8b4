import { type DatabaseIntrospector, type DatabaseMetadata, type Kysely, PostgresDialect, type SchemaMetadata, sql, type TableMetadata } from 'kysely'

/**
 * Kysely's PostgreSQL introspector lists the tables of *every* schema, calling catalogue
 * functions on each; when another schema's tables are created or dropped meanwhile (several
 * services or test runs sharing a database), that read fails. Its one user here is the migrator,
 * which only asks "does my bookkeeping table exist?": answer from plain catalogue rows of the
 * connection's own schema, which a concurrent DDL elsewhere cannot break.
 */
class CurrentSchemaIntrospector implements DatabaseIntrospector {
  constructor (private readonly db: Kysely<any>) {}

  async getSchemas (): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace`.execute(this.db)
    return rows
  }

  async getTables (): Promise<TableMetadata[]> {
    const { rows } = await sql<{ name: string, schema: string, kind: string }>`
      select c.relname as name, n.nspname as schema, c.relkind as kind
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind in ('r', 'p', 'v', 'm')`.execute(this.db)
    return rows.map((row) => ({ name: row.name, schema: row.schema, isView: row.kind === 'v' || row.kind === 'm', columns: [] }))
  }

  async getMetadata (): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() }
  }
}

export class CurrentSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector (db: Kysely<any>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db)
  }
}
