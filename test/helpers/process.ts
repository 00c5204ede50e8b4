import { spawn, type SpawnOptions } from 'node:child_process'

export interface ProcessResult { code: number | null, stdout: string, stderr: string }

/** Runs a command to its end with `stdin` as its input, collecting its exit code and output. */
export function runProcess (command: string, args: string[], options: SpawnOptions, stdin = ''): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin?.end(stdin)
  })
}
