import { stdin, stderr } from 'node:process'

export class PasswordInputError extends Error {}

/**
 * Reads a password for the CLI. On a terminal it is typed twice without echo (the characters
 * never appear on screen or in scroll-back); otherwise it is the first line of standard input,
 * so scripts can pipe it in instead of placing it on the command line, where it would show
 * in `ps` and the shell history.
 */
export async function readPassword (prompt: string): Promise<string> {
  if (!stdin.isTTY) {
    const line = (await readAll()).split(/\r?\n/)[0] ?? ''
    if (line === '') throw new PasswordInputError('No password on standard input')
    return line
  }
  const first = await promptHidden(prompt)
  const second = await promptHidden('Repeat it: ')
  if (first !== second) throw new PasswordInputError('The passwords do not match')
  if (first === '') throw new PasswordInputError('The password is empty')
  return first
}

async function readAll (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function promptHidden (prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    stderr.write(prompt)
    stdin.setRawMode(true)
    stdin.setEncoding('utf8')
    stdin.resume()
    let value = ''
    const finish = (error?: Error): void => {
      stdin.setRawMode(false)
      stdin.pause()
      stdin.off('data', onData)
      stderr.write('\n')
      if (error) reject(error)
      else resolve(value)
    }
    const onData = (chunk: string): void => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') return finish()
        if (char === '\u0003') return finish(new PasswordInputError('Cancelled'))
        if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('')
        else if (char >= ' ') value += char
      }
    }
    stdin.on('data', onData)
  })
}
