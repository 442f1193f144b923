// Renders docs/bench-vs-azure.json as a hand-rolled SVG bar chart (log scale, no chart library).
// `node scripts/bench-chart.mjs [in.json] [out.svg]` re-renders it; scripts/bench-vs-azure.mjs calls renderChart.
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const COLORS = { ours: "#2563eb", azure: "#f97316" }
const WIDTH = 820
const HEIGHT = 420

const escape = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

/** `ns` as a short label: 412 ns, 1.2 µs, 35 ms. */
export const shortNs = (ns) => {
  const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2))
  if (ns < 1e3) return `${fmt(ns)} ns`
  if (ns < 1e6) return `${fmt(ns / 1e3)} µs`
  if (ns < 1e9) return `${fmt(ns / 1e6)} ms`
  return `${fmt(ns / 1e9)} s`
}

const tickLabel = (
  ns
) => (ns < 1e3 ? `${ns} ns` : ns < 1e6 ? `${ns / 1e3} µs` : ns < 1e9 ? `${ns / 1e6} ms` : `${ns / 1e9} s`)

/**
 * One panel: groups of two bars on a log axis. `groups` = [{ label, ours?: {ns, note?}, azure?: {ns, note?} }].
 */
const panel = ({ x, y, width, height, title, groups }) => {
  const values = groups.flatMap((g) => [g.ours?.ns, g.azure?.ns]).filter((v) => v > 0)
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values)))
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values) * 1.5))
  const axisX = x + 52
  const plotW = width - 52
  const scale = (v) => y + height - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * height
  const out = [`<text x="${x + width / 2}" y="${y - 14}" class="title" text-anchor="middle">${escape(title)}</text>`]
  for (let t = lo; t <= hi * 1.0001; t *= 10) {
    const ty = scale(t).toFixed(1)
    out.push(`<line x1="${axisX}" x2="${x + width}" y1="${ty}" y2="${ty}" class="grid"/>`)
    out.push(`<text x="${axisX - 6}" y="${ty}" class="tick" text-anchor="end" dy="0.32em">${tickLabel(t)}</text>`)
  }
  out.push(`<line x1="${axisX}" x2="${axisX}" y1="${y}" y2="${y + height}" class="axis"/>`)
  out.push(`<line x1="${axisX}" x2="${x + width}" y1="${y + height}" y2="${y + height}" class="axis"/>`)
  const groupW = plotW / groups.length
  const barW = Math.min(44, groupW / 3)
  groups.forEach((g, i) => {
    const cx = axisX + groupW * (i + 0.5)
    for (const [k, dx] of [["ours", -barW / 2 - 2], ["azure", barW / 2 + 2]]) {
      const bx = cx + dx - barW / 2
      const v = g[k]
      if (v === undefined || !(v.ns > 0)) {
        out.push(
          `<text x="${cx + dx}" y="${y + height - 6}" class="note" text-anchor="middle">n/a</text>`
        )
        continue
      }
      const top = scale(v.ns)
      out.push(
        `<rect x="${bx.toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${
          (y + height - top).toFixed(1)
        }" fill="${COLORS[k]}"${
          v.note === undefined ? "" : " fill-opacity=\"0.45\" stroke-dasharray=\"4 2\""
        } stroke="${COLORS[k]}"/>`
      )
      out.push(
        `<text x="${cx + dx}" y="${(top - 5).toFixed(1)}" class="value" text-anchor="middle">${
          escape(shortNs(v.ns) + (v.note === undefined ? "" : "*"))
        }</text>`
      )
    }
    out.push(`<text x="${cx}" y="${y + height + 18}" class="label" text-anchor="middle">${escape(g.label)}</text>`)
    if (g.sublabel !== undefined) {
      out.push(`<text x="${cx}" y="${y + height + 33}" class="sub" text-anchor="middle">${escape(g.sublabel)}</text>`)
    }
  })
  return out.join("\n")
}

/** The SVG (about 820×420) for a bench-vs-azure report. */
export const renderChart = (report) => {
  const { effectEntra: a, azureIdentity: b } = report.results
  const notes = []
  const sizeOf = (r, size) => r?.cached?.sizes?.find((s) => s.size === size)
  const bar = (m, who) => {
    if (m === undefined) return undefined
    if (m.complete) return { ns: m.nsPerOp.median }
    notes.push(
      `* ${who}: the fill to ${m.size.toLocaleString("en")} was capped at ${m.fillSeconds} s; measured at ${
        m.reached.toLocaleString("en")
      } cached tokens`
    )
    return { ns: m.nsPerOp.median, note: "capped" }
  }
  const cachedGroups = report.method.sizes.map((size) => ({
    label: `${size.toLocaleString("en")} cached`,
    ours: bar(sizeOf(a, size), "@effect-entra/identity"),
    azure: bar(sizeOf(b, size), "@azure/identity")
  }))
  const ms = (v) => (v === undefined ? undefined : { ns: v * 1e6 })
  const firstGroups = [
    { label: "cold redeem", sublabel: "median", ours: ms(a.cold?.ms?.median), azure: ms(b.cold?.ms?.median) },
    {
      label: `${a.concurrent?.calls ?? b.concurrent?.calls ?? 100} concurrent`,
      sublabel: "first calls, wall",
      ours: ms(a.concurrent?.wallMs),
      azure: ms(b.concurrent?.wallMs)
    }
  ]
  const outcome = (c) => (c === undefined || c.error !== undefined ? "n/a" : `${c.succeeded} ok, ${c.failed} failed`)
  if (a.concurrent !== undefined || b.concurrent !== undefined) {
    const codes = Object.keys(b.concurrent?.failures ?? {}).map((k) => k.split(" ").pop()).join(", ")
    notes.push(
      `Concurrent first calls: @effect-entra/identity ${outcome(a.concurrent)}; @azure/identity ${
        outcome(b.concurrent)
      }${codes.length > 0 ? ` (${codes})` : ""}`
    )
  }
  const m = report.machine
  const caption = `Node ${m.node} · ${m.cpuModel} × ${m.cores} · @azure/identity ${
    report.versions?.["@azure/identity"] ?? "?"
  } · ${report.generatedAt.slice(0, 10)} · lower is better, log scale`
  const body = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}"` +
    ` font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">`,
    "<style>.title{font-size:14px;font-weight:600;fill:#111}.tick{font-size:11px;fill:#555}" +
    ".grid{stroke:#e5e7eb;stroke-width:1}.axis{stroke:#9ca3af;stroke-width:1}.value{font-size:11px;fill:#111}" +
    ".label{font-size:12px;fill:#111}.sub{font-size:11px;fill:#555}.note{font-size:11px;fill:#555}" +
    ".legend{font-size:12px;fill:#111}</style>",
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    panel({ x: 16, y: 60, width: 470, height: 260, title: "Cached getToken (per call)", groups: cachedGroups }),
    panel({ x: 530, y: 60, width: 270, height: 260, title: "First token over HTTPS", groups: firstGroups }),
    `<rect x="230" y="10" width="12" height="12" fill="${COLORS.ours}"/>`,
    `<text x="248" y="20" class="legend">@effect-entra/identity</text>`,
    `<rect x="420" y="10" width="12" height="12" fill="${COLORS.azure}"/>`,
    `<text x="438" y="20" class="legend">@azure/identity</text>`,
    ...notes.map((n, i) => `<text x="16" y="${372 + i * 14}" class="note">${escape(n)}</text>`),
    `<text x="16" y="${HEIGHT - 10}" class="note">${escape(caption)}</text>`,
    "</svg>",
    ""
  ]
  return body.join("\n")
}

if (process.argv[1] !== undefined && Path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
  const input = process.argv[2] ?? Path.join(root, "docs/bench-vs-azure.json")
  const output = process.argv[3] ?? Path.join(root, "docs/bench-vs-azure.svg")
  Fs.writeFileSync(output, renderChart(JSON.parse(Fs.readFileSync(input, "utf8"))))
  console.log(`wrote ${output}`)
}
