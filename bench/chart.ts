// Turns bench results (bench/results/*.json) into an SVG chart of each scenario as a share of
// its ceiling, and a Markdown table of the same figures. With several runs per group, a bar is
// the median and its whisker the min–max; groups (e.g. "before" and "after") sit side by side.
//
//   node --import tsx bench/chart.ts [--out bench/chart.svg] [--table] \
//     [--group before a.json b.json c.json] [--group after d.json e.json f.json]
//   node --import tsx bench/chart.ts results.json          one group, named "run"
//
// bench/run.ts calls `renderChart` after every run (bench/results/latest.svg).
import { readFileSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { targetFor } from './targets.js'

/** The part of a bench/results JSON file this module reads. */
export interface BenchReport {
  startedAt: string
  machine: string
  rows: { scenario: string, load?: { rps: number, cpuPercent: number }, ratio?: { to: string, value?: number, target?: number } }[]
}

export interface Group { name: string, reports: BenchReport[] }

interface Stat { median: number, min: number, max: number, runs: number }

function stat (values: number[]): Stat | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: sorted.length }
}

interface Scenario { name: string, ceiling: string, target: number | undefined }

/**
 * Scenarios with a ratio, in the order they first appear across every report. Targets are
 * today's (bench/targets.ts), so older results are drawn against the same marks.
 */
function scenariosOf (groups: Group[]): Scenario[] {
  const seen = new Map<string, Scenario>()
  for (const group of groups) {
    for (const report of group.reports) {
      const postgres = report.machine.includes('PostgreSQL')
      for (const row of report.rows) {
        if (!row.ratio || row.ratio.value === undefined || seen.has(row.scenario)) continue
        seen.set(row.scenario, { name: row.scenario, ceiling: row.ratio.to, target: targetFor(row.scenario, postgres) ?? row.ratio.target })
      }
    }
  }
  return [...seen.values()]
}

function ratios (group: Group, scenario: string): Stat | undefined {
  return stat(group.reports.flatMap((report) => report.rows.filter((row) => row.scenario === scenario && row.ratio?.value !== undefined).map((row) => row.ratio!.value!)))
}

function cpuMicros (group: Group, scenario: string): Stat | undefined {
  return stat(group.reports.flatMap((report) => report.rows
    .filter((row) => row.scenario === scenario && row.load && row.load.rps > 0)
    .map((row) => (row.load!.cpuPercent * 10_000) / row.load!.rps)))
}

const escapeXml = (text: string): string => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
const pct = (value: number): string => `${(value * 100).toFixed(1)} %`

// Colour-blind-safe pair (Okabe–Ito), then greys for any further groups.
const COLOURS = ['#999999', '#0072b2', '#e69f00', '#009e73', '#cc79a7']

/** The chart as a standalone SVG document. */
export function renderChart (groups: Group[], title = 'Each scenario as a share of its ceiling (same run)'): string {
  const scenarios = scenariosOf(groups)
  const labelWidth = 150
  const plotWidth = 520
  const barHeight = 14
  const barGap = 3
  const rowGap = 14
  const top = 52
  const rowHeight = groups.length * (barHeight + barGap) - barGap + rowGap
  const height = top + scenarios.length * rowHeight + 40
  const width = labelWidth + plotWidth + 130
  const maxValue = Math.max(1.2, ...groups.flatMap((g) => scenarios.map((s) => ratios(g, s.name)?.max ?? 0)))
  const scaleMax = Math.ceil(maxValue * 5) / 5
  const x = (value: number): number => labelWidth + (value / scaleMax) * plotWidth
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`)
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  out.push(`<text x="10" y="18" font-size="14" font-weight="bold">${escapeXml(title)}</text>`)
  // Legend.
  let legendX = 10
  for (const [i, group] of groups.entries()) {
    const runs = group.reports.length
    const label = `${group.name} (${runs} run${runs === 1 ? '' : 's'}: median, whisker min–max)`
    out.push(`<rect x="${legendX}" y="28" width="12" height="12" fill="${COLOURS[i % COLOURS.length]}"/>`)
    out.push(`<text x="${legendX + 16}" y="38">${escapeXml(label)}</text>`)
    legendX += 24 + label.length * 6.2
  }
  out.push(`<line x1="${legendX}" y1="28" x2="${legendX}" y2="40" stroke="#d00000" stroke-width="2"/>`)
  out.push(`<text x="${legendX + 6}" y="38">target</text>`)
  // Grid every 20 %.
  const bottom = top + scenarios.length * rowHeight - rowGap + 6
  for (let tick = 0; tick <= scaleMax + 1e-9; tick += 0.2) {
    const tx = x(tick).toFixed(1)
    out.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${bottom}" stroke="${Math.abs(tick - 1) < 1e-9 ? '#555555' : '#dddddd'}"/>`)
    out.push(`<text x="${tx}" y="${bottom + 14}" text-anchor="middle" fill="#555555">${Math.round(tick * 100)} %</text>`)
  }
  for (const [row, scenario] of scenarios.entries()) {
    const y0 = top + row * rowHeight
    const groupHeight = groups.length * (barHeight + barGap) - barGap
    out.push(`<text x="${labelWidth - 8}" y="${y0 + groupHeight / 2 - 1}" text-anchor="end">${escapeXml(scenario.name)}</text>`)
    out.push(`<text x="${labelWidth - 8}" y="${y0 + groupHeight / 2 + 11}" text-anchor="end" fill="#777777" font-size="10">of ${escapeXml(scenario.ceiling)}</text>`)
    for (const [i, group] of groups.entries()) {
      const s = ratios(group, scenario.name)
      const y = y0 + i * (barHeight + barGap)
      if (!s) {
        out.push(`<text x="${labelWidth + 4}" y="${y + barHeight - 3}" fill="#777777" font-size="10">not measured</text>`)
        continue
      }
      out.push(`<rect x="${labelWidth}" y="${y}" width="${(x(s.median) - labelWidth).toFixed(1)}" height="${barHeight}" fill="${COLOURS[i % COLOURS.length]}"/>`)
      if (s.runs > 1) {
        const wy = y + barHeight / 2
        out.push(`<line x1="${x(s.min).toFixed(1)}" y1="${wy}" x2="${x(s.max).toFixed(1)}" y2="${wy}" stroke="#000000"/>`)
        for (const end of [s.min, s.max]) out.push(`<line x1="${x(end).toFixed(1)}" y1="${wy - 4}" x2="${x(end).toFixed(1)}" y2="${wy + 4}" stroke="#000000"/>`)
      }
      const range = s.runs > 1 ? ` (${(s.min * 100).toFixed(0)}–${(s.max * 100).toFixed(0)})` : ''
      out.push(`<text x="${(Math.max(x(s.max), x(s.median)) + 6).toFixed(1)}" y="${y + barHeight - 3}" font-size="10">${pct(s.median)}${range}</text>`)
    }
    if (scenario.target !== undefined) {
      const tx = x(scenario.target).toFixed(1)
      out.push(`<line x1="${tx}" y1="${y0 - 3}" x2="${tx}" y2="${y0 + groupHeight + 3}" stroke="#d00000" stroke-width="2"/>`)
    }
  }
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

/** A Markdown table: per scenario and group, the ratio's median (min–max) and CPU per request. */
export function renderTable (groups: Group[]): string {
  const scenarios = scenariosOf(groups)
  const header = ['scenario', 'target', ...groups.flatMap((g) => [`${g.name}: ratio, median (min–max)`, `${g.name}: cpu µs/req`])]
  const lines = scenarios.map((scenario) => {
    const cells = [scenario.name, scenario.target !== undefined ? `≥ ${pct(scenario.target)} of ${scenario.ceiling}` : `of ${scenario.ceiling}`]
    for (const group of groups) {
      const r = ratios(group, scenario.name)
      const c = cpuMicros(group, scenario.name)
      const met = r && scenario.target !== undefined ? (r.min >= scenario.target ? ' ✓' : r.median >= scenario.target ? ' (median ✓, not every run)' : ' ✗') : ''
      cells.push(r ? `${pct(r.median)} (${pct(r.min)}–${pct(r.max)})${met}` : '—')
      cells.push(c ? `${c.median.toFixed(0)} (${c.min.toFixed(0)}–${c.max.toFixed(0)})` : '—')
    }
    return cells
  })
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n')
}

function main (argv: string[]): void {
  let out = 'bench/chart.svg'
  let table = false
  const groups: Group[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--out') out = argv[++i]!
    else if (arg === '--table') table = true
    else if (arg === '--group') groups.push({ name: argv[++i]!, reports: [] })
    else {
      if (groups.length === 0) groups.push({ name: 'run', reports: [] })
      groups[groups.length - 1]!.reports.push(JSON.parse(readFileSync(arg, 'utf8')) as BenchReport)
    }
  }
  if (groups.length === 0 || groups.some((g) => g.reports.length === 0)) {
    console.error('usage: bench/chart.ts [--out FILE.svg] [--table] [--group NAME] results.json ...')
    process.exit(64)
  }
  writeFileSync(out, renderChart(groups))
  console.error(`chart: ${out}`)
  if (table) console.log(renderTable(groups))
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2))
