#!/usr/bin/env node
/**
 * `authd-admin <group> <command>`: the operator CLI (users, keys, outbox, import, migrate),
 * working directly on the service's database. `authd-admin --help` lists the commands, the
 * output rules and the exit codes.
 */
import { runCli } from './runner.js'

// The exit code is set, not forced with process.exit(), so stdout is flushed to a pipe first.
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text)
})
