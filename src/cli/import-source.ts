import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { parse } from 'csv-parse'

/** One row of an import file: its fields, or why it could not be read. Lines count from 1. */
export interface SourceRow { line: number, fields: Record<string, unknown> | undefined, error?: string }

/** JSON Lines: one object per line; blank lines are skipped, a line that is not JSON is reported. */
export async function * readJsonl (path: string): AsyncGenerator<SourceRow> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })
  let line = 0
  for await (const text of lines) {
    line++
    if (text.trim() === '') continue
    try {
      const value: unknown = JSON.parse(text)
      if (value === null || typeof value !== 'object' || Array.isArray(value)) yield { line, fields: undefined, error: 'not a JSON object' }
      else yield { line, fields: value as Record<string, unknown> }
    } catch {
      yield { line, fields: undefined, error: 'not valid JSON' }
    }
  }
}

/** CSV with a header row (email,username,hash[,name][,role][,is_verified]); line numbers count the header. */
export async function * readCsv (path: string): AsyncGenerator<SourceRow> {
  const parser = createReadStream(path).pipe(parse({
    columns: (header: string[]) => header.map((name) => name.trim().toLowerCase()),
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    info: true
  }))
  for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>, info: { lines: number } }>) {
    yield { line: info.lines, fields: record }
  }
}
