import { Errors } from '../http/errors.js'
import type { CommandInput } from './command.js'

/** Helpers for `parse`: each mistake is a usage error (exit code 2) naming the argument. */

export function noArgs (input: CommandInput, command: string, hint = ''): void {
  if (input.args.length > 0) throw Errors.usage(`${command} takes no arguments${hint}`)
}

export function oneArg (input: CommandInput, command: string, what: string): string {
  const [only, ...extra] = input.args
  if (only === undefined || extra.length > 0) throw Errors.usage(`${command} needs exactly one ${what}`)
  return only
}

export function stringOption (input: CommandInput, name: string): string | undefined {
  const value = input.options[name]
  return typeof value === 'string' ? value : undefined
}

export function flag (input: CommandInput, name: string): boolean {
  return input.options[name] === true
}

export function integerOption (input: CommandInput, name: string, range: { fallback: number, min: number, max: number }): number {
  const value = stringOption(input, name)
  if (value === undefined) return range.fallback
  if (!/^\d+$/.test(value) || Number(value) < range.min || Number(value) > range.max) {
    throw Errors.usage(`--${name} must be a whole number from ${range.min} to ${range.max}`)
  }
  return Number(value)
}

export function choiceOption<T extends string> (input: CommandInput, name: string, choices: readonly T[], fallback: T): T {
  const value = stringOption(input, name) ?? fallback
  if (!(choices as readonly string[]).includes(value)) throw Errors.usage(`--${name} must be ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`)
  return value as T
}
