// The ceiling of password work on this machine: argon2id hashes per second at the configured
// parameters, with every core busy. Run as its own process by run.ts (which sizes
// UV_THREADPOOL_SIZE to the cores), prints one JSON line.
import { availableParallelism } from 'node:os'
import argon2 from 'argon2'

const [warmupSeconds = '1', durationSeconds = '5', memoryKib = '19456', timeCost = '2', parallelism = '1'] = process.argv.slice(2)
const options = { type: argon2.argon2id as 0 | 1 | 2, memoryCost: Number(memoryKib), timeCost: Number(timeCost), parallelism: Number(parallelism) }
// Twice the cores in flight keeps every pool thread busy without queueing much.
const inFlight = availableParallelism() * 2

async function hashFor (seconds: number): Promise<number> {
  const end = Date.now() + seconds * 1000
  let done = 0
  await Promise.all(Array.from({ length: inFlight }, async (_, lane) => {
    while (Date.now() < end) {
      await argon2.hash(`ceiling password ${lane} ${done}`, options)
      done++
    }
  }))
  return done
}

await hashFor(Number(warmupSeconds))
const started = process.hrtime.bigint()
// CPU of every thread of the process: the pool threads do the hashing.
const cpuBefore = process.cpuUsage()
const count = await hashFor(Number(durationSeconds))
const cpu = process.cpuUsage(cpuBefore)
const elapsed = Number(process.hrtime.bigint() - started) / 1e9
const cpuSeconds = (cpu.user + cpu.system) / 1e6
process.stdout.write(JSON.stringify({
  hashesPerSecond: count / elapsed,
  count,
  seconds: elapsed,
  cpuPercent: (cpuSeconds / elapsed) * 100,
  threads: process.env.UV_THREADPOOL_SIZE
}) + '\n')
