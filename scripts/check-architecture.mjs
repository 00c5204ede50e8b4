// `npm run check:architecture`: the rules of .dependency-cruiser.cjs, plus the one rule
// dependency-cruiser cannot state on its own: no cycle between src/ folders. Its `no-circular`
// looks at modules, and folders can form a cycle through modules that do not (users/a →
// sessions/b → users/c), so the folder graph is built from the cruise and searched here.
import { cruise } from 'dependency-cruiser'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const ruleSet = require('../.dependency-cruiser.cjs')
const { options, ...rules } = ruleSet

const { output } = await cruise(['src'], { ...options, validate: true, ruleSet: rules, outputType: 'json' })
const result = typeof output === 'string' ? JSON.parse(output) : output

const problems = []
for (const violation of result.summary.violations) {
  problems.push(`${violation.rule.name}: ${violation.from} → ${violation.to}`)
}

const folderOf = (path) => /^src\/([^/]+)\//.exec(path)?.[1]
/** folder → folder → one import that makes the edge, for the message */
const edges = new Map()
for (const module of result.modules) {
  const from = folderOf(module.source)
  if (!from) continue
  for (const dependency of module.dependencies) {
    const to = folderOf(dependency.resolved)
    if (!to || to === from) continue
    if (!edges.has(from)) edges.set(from, new Map())
    if (!edges.get(from).has(to)) edges.get(from).set(to, `${module.source} → ${dependency.resolved}`)
  }
}

// Depth-first search; a grey node reached again closes a cycle.
const state = new Map()
const stack = []
function visit (folder) {
  state.set(folder, 'grey')
  stack.push(folder)
  for (const next of edges.get(folder)?.keys() ?? []) {
    if (state.get(next) === 'grey') {
      const cycle = [...stack.slice(stack.indexOf(next)), next]
      const via = cycle.slice(0, -1).map((f, i) => `    ${edges.get(f).get(cycle[i + 1])}`)
      problems.push(`folder cycle: ${cycle.join(' → ')}\n${via.join('\n')}`)
    } else if (!state.has(next)) {
      visit(next)
    }
  }
  stack.pop()
  state.set(folder, 'black')
}
for (const folder of edges.keys()) if (!state.has(folder)) visit(folder)

if (problems.length > 0) {
  console.error(problems.join('\n'))
  process.exit(1)
}
console.log(`architecture: ${result.modules.length} modules, no folder cycle, no forbidden import`)
