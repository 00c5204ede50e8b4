// Summarises a V8 .cpuprofile (as `npm run bench -- --profile` writes into bench/results/):
// self time by package or source file, and the top functions, as shares of the busy time
// (idle excluded). bench/README.md quotes it.
//
//   node --import tsx bench/profile-summary.ts bench/results/CPU.*.cpuprofile [--top 25]
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  children?: number[]
}
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

/** Where a frame's code lives: an npm package, a file of the service, node itself, or V8. */
function placeOf (url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)'
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (packageMatch) return packageMatch[1]!
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] === 'internal' ? url.slice(5).split('/').slice(1, 2).join('') : url.slice(5)}`
  const own = /\/(dist\/)?(src|bin|bench)\/(.*)$/.exec(url)
  if (own) return `authd ${own[2]}/${own[3]!.replace(/\.js$/, '')}`
  return url
}

export function summarise (profile: Profile, top = 25): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const self = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  let total = 0
  let idle = 0
  const places = new Map<string, number>()
  const functions = new Map<string, number>()
  for (const [id, micros] of self) {
    const node = byId.get(id)!
    const { functionName, url, lineNumber } = node.callFrame
    total += micros
    if (functionName === '(idle)') {
      idle += micros
      continue
    }
    const place = placeOf(url, functionName)
    places.set(place, (places.get(place) ?? 0) + micros)
    const name = `${functionName || '(anonymous)'}  ${place}${url ? `:${lineNumber + 1}` : ''}`
    functions.set(name, (functions.get(name) ?? 0) + micros)
  }
  const busy = total - idle
  const share = (micros: number): string => `${((micros / busy) * 100).toFixed(1).padStart(5)} %`
  const list = (entries: Map<string, number>): string[] => [...entries].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, micros]) => `${share(micros)}  ${name}`)
  return [
    `profiled ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${((busy / total) * 100).toFixed(0)} %); shares of busy time`,
    '',
    'self time by place:',
    ...list(places),
    '',
    'self time by function:',
    ...list(functions)
  ].join('\n')
}

const args = process.argv.slice(2)
const topAt = args.indexOf('--top')
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25
if (args.length === 0) {
  console.error('usage: bench/profile-summary.ts FILE.cpuprofile [--top N]')
  process.exit(64)
}
for (const file of args) {
  console.log(`== ${file}`)
  console.log(summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, top))
}
