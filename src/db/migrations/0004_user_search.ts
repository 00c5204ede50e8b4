import { type Kysely, PostgresAdapter, sql } from 'kysely'

/**
 * Indexes behind the admin user list (GET /api/v1/users), which must stay fast at a million
 * users: sorting and paging by each sortable column, filtering by is_active, and substring
 * search over email, username and name.
 *
 * A `LIKE '%x%'` cannot use a b-tree, so search gets a trigram index on each side:
 * - PostgreSQL: the pg_trgm extension and a GIN index per searched column (when the extension
 *   is not installable here, search still works, by a scan);
 * - SQLite: an FTS5 table with the trigram tokenizer, kept in step with `users` by triggers and
 *   keyed by the users row's rowid. It is contentless (the text lives only in `users`) and
 *   allows deletes (`contentless_delete`, SQLite 3.43+).
 */
export async function up (db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter

  // email and username_lower already carry unique indexes, created_at (created_at, id).
  await db.schema.createIndex('users_name_idx').on('users').columns(['name', 'id']).execute()
  await db.schema.createIndex('users_active_created_idx').on('users').columns(['is_active', 'created_at', 'id']).execute()
  // At most one primary admin, even when several instances bootstrap it at once.
  await db.schema.createIndex('users_primary_idx').unique().on('users').column('is_primary').where('is_primary', '=', 1).execute()

  await createUserCounts(db, postgres)

  if (postgres) {
    const schema = await trigramSchema(db)
    if (schema !== undefined) {
      const ops = sql`${sql.id(schema)}.gin_trgm_ops`
      await sql`create index users_email_trgm_idx on users using gin (email ${ops})`.execute(db)
      await sql`create index users_username_trgm_idx on users using gin (username_lower ${ops})`.execute(db)
      await sql`create index users_name_trgm_idx on users using gin (lower(name) ${ops})`.execute(db)
    }
    return
  }

  await sql`create virtual table users_search using fts5(
    email, username, name, tokenize = 'trigram', content = '', contentless_delete = 1
  )`.execute(db)
  await sql`insert into users_search (rowid, email, username, name)
    select rowid, email, username_lower, coalesce(name, '') from users`.execute(db)
  await sql`create trigger users_search_insert after insert on users begin
    insert into users_search (rowid, email, username, name)
    values (new.rowid, new.email, new.username_lower, coalesce(new.name, ''));
  end`.execute(db)
  await sql`create trigger users_search_update after update of email, username_lower, name on users begin
    delete from users_search where rowid = old.rowid;
    insert into users_search (rowid, email, username, name)
    values (new.rowid, new.email, new.username_lower, coalesce(new.name, ''));
  end`.execute(db)
  await sql`create trigger users_search_delete after delete on users begin
    delete from users_search where rowid = old.rowid;
  end`.execute(db)
}

/**
 * `count(*)` reads a whole index: about a tenth of a second at a million users, on every page
 * of the list. The number of users per is_active value is kept instead, by triggers, in the
 * same transaction as each insert, delete or (de)activation. A transaction changing both rows
 * always updates is_active = 0 before is_active = 1, so two of them cannot deadlock.
 */
async function createUserCounts (db: Kysely<any>, postgres: boolean): Promise<void> {
  await db.schema.createTable('user_counts')
    .addColumn('is_active', 'integer', (c) => c.primaryKey())
    .addColumn('count', 'bigint', (c) => c.notNull())
    .execute()
  await sql`insert into user_counts (is_active, count)
    select v.is_active, (select count(*) from users u where u.is_active = v.is_active)
    from (select 0 as is_active union all select 1) v`.execute(db)
  const both = sql.raw(`
    update user_counts set count = count + (case when new.is_active = 0 then 1 else 0 end) - (case when old.is_active = 0 then 1 else 0 end) where is_active = 0;
    update user_counts set count = count + (case when new.is_active = 1 then 1 else 0 end) - (case when old.is_active = 1 then 1 else 0 end) where is_active = 1;`)
  if (postgres) {
    await sql`create function users_count_rows() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then
        update user_counts set count = count + 1 where is_active = new.is_active;
      elsif tg_op = 'DELETE' then
        update user_counts set count = count - 1 where is_active = old.is_active;
      elsif old.is_active <> new.is_active then
        ${both}
      end if;
      return null;
    end $$`.execute(db)
    await sql`create trigger users_count_rows after insert or delete or update of is_active on users
      for each row execute function users_count_rows()`.execute(db)
    return
  }
  await sql`create trigger users_count_insert after insert on users begin
    update user_counts set count = count + 1 where is_active = new.is_active;
  end`.execute(db)
  await sql`create trigger users_count_delete after delete on users begin
    update user_counts set count = count - 1 where is_active = old.is_active;
  end`.execute(db)
  await sql`create trigger users_count_update after update of is_active on users
    when old.is_active <> new.is_active begin ${both}
  end`.execute(db)
}

/**
 * The schema holding pg_trgm, installing it when possible. The extension is database-wide and
 * may live outside the current search_path (e.g. in `public` while tests use their own
 * schema), so its operator class is always named with its schema.
 */
async function trigramSchema (db: Kysely<any>): Promise<string | undefined> {
  const installed = async (): Promise<string | undefined> => {
    const { rows } = await sql<{ schema: string }>`select n.nspname as schema from pg_extension e
      join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`.execute(db)
    return rows[0]?.schema
  }
  const existing = await installed()
  if (existing !== undefined) return existing
  const { rows } = await sql`select 1 from pg_available_extensions where name = 'pg_trgm'`.execute(db)
  if (rows.length === 0) return undefined
  await sql`create extension if not exists pg_trgm`.execute(db)
  return installed()
}

export async function down (db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    // The extension stays: other databases' objects may use it.
    await sql`drop index if exists users_email_trgm_idx`.execute(db)
    await sql`drop index if exists users_username_trgm_idx`.execute(db)
    await sql`drop index if exists users_name_trgm_idx`.execute(db)
  } else {
    await sql`drop trigger if exists users_search_insert`.execute(db)
    await sql`drop trigger if exists users_search_update`.execute(db)
    await sql`drop trigger if exists users_search_delete`.execute(db)
    await sql`drop table if exists users_search`.execute(db)
  }
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`drop trigger if exists users_count_rows on users`.execute(db)
    await sql`drop function if exists users_count_rows()`.execute(db)
  } else {
    await sql`drop trigger if exists users_count_insert`.execute(db)
    await sql`drop trigger if exists users_count_delete`.execute(db)
    await sql`drop trigger if exists users_count_update`.execute(db)
  }
  await db.schema.dropTable('user_counts').execute()
  await db.schema.dropIndex('users_primary_idx').execute()
  await db.schema.dropIndex('users_active_created_idx').execute()
  await db.schema.dropIndex('users_name_idx').execute()
}
