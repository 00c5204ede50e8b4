import { type ProcessResult, runProcess } from '../helpers/process.js'

export type CliResult = ProcessResult

/** Runs a TypeScript entry point of src/ as its own process, as `npm run …` would (through tsx). */
export function runCli (entry: string, args: string[], env: Record<string, string>, stdin?: string): Promise<CliResult> {
  return runProcess(process.execPath, ['--import', 'tsx', entry, ...args], { env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env } }, stdin ?? '')
}
