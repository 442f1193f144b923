#!/usr/bin/env node
// Type-checks every ```ts / ```typescript block of README.md, docs/*.md and packages/*/README.md, and runs the
// blocks marked runnable against the bundled emulator. Run by docs/examples/test/DocBlocks.test.ts (so by
// `pnpm test` and CI); after `pnpm build` (the blocks see the packages' built types, as a user would).
//
//   node scripts/doc-blocks.mjs            type-check; print each failure as file:line
//   node scripts/doc-blocks.mjs --run      also run the runnable blocks
//   node scripts/doc-blocks.mjs --list     the blocks as JSON (file, line, runnable)
//   node scripts/doc-blocks.mjs --json     the results as JSON
//   node scripts/doc-blocks.mjs --keep     keep the generated files (docs/examples/build/doc-blocks/run-<pid>)
//
// Conventions, in comments at the top of a block (readers see them, so keep them short):
//   // assumes: tenantId: string, clientId: string
//       names the block uses without defining them (one or more lines; types may use the block's imports).
//       They become `declare const` lines after the block.
//   // runs against the emulator
//       the block is also run (as an ES module, in its own `node` process) against a running emulator:
//       its assumed names must be strings named after the emulator's values (see `emulatorValue`), its code a
//       fresh sign-in; AZURE_AUTHORITY_HOST and NODE_EXTRA_CA_CERTS point at the emulator. It passes when the
//       process exits with 0.
//   // excerpt of packages/identity/src/AuthorizationCodeCredential.ts
//       the block quotes that file: each of its lines (trimmed, without a trailing // comment) must appear in the
//       file in the same order. The file itself is type-checked where it lives; the block is not compiled alone.
//
// Each block becomes one file in docs/examples/build/doc-blocks/run-<pid> (git-ignored), checked with the examples' compiler
// options (strict, exactOptionalPropertyTypes); a block's line N is line N of its file, so messages name the
// markdown line. Packages the examples project cannot resolve are linked in from the workspace; the few a block
// names that are installed nowhere here get a minimal declaration of what the docs use (`stubs` below).
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const examples = path.join(root, "docs/examples")
// One folder per run (this process and its worker), removed at the end: runs of the suite side by side do not clash.
const outDir = path.join(examples, "build/doc-blocks", `run-${process.pid}`)
const require = createRequire(path.join(root, "package.json"))

const RUNNABLE = /^\s*\/\/\s*runs against the emulator\b/
const ASSUMES = /^\s*\/\/\s*assumes:\s*(.*)$/
const EXCERPT = /^\s*\/\/\s*excerpt of\s+(\S+)\s*$/

// Packages no workspace package installs: a declaration of the part the docs use, so the blocks still type-check.
const stubs = {
  "@azure/keyvault-secrets": `
    import type { TokenCredential } from "@azure/core-auth"
    export declare class SecretClient {
      constructor(vaultUrl: string, credential: TokenCredential)
      getSecret(name: string): Promise<{ readonly name: string; readonly value?: string }>
    }`,
  "@opentelemetry/exporter-trace-otlp-http": `
    import type { SpanExporter } from "@opentelemetry/sdk-trace-base"
    export declare class OTLPTraceExporter implements SpanExporter {
      constructor(config?: { url?: string })
      export: SpanExporter["export"]
      shutdown: SpanExporter["shutdown"]
    }`,
  "@opentelemetry/exporter-metrics-otlp-http": `
    import type { PushMetricExporter } from "@opentelemetry/sdk-metrics"
    export declare class OTLPMetricExporter implements PushMetricExporter {
      constructor(config?: { url?: string })
      export: PushMetricExporter["export"]
      forceFlush: PushMetricExporter["forceFlush"]
      shutdown: PushMetricExporter["shutdown"]
    }`
}

/** The markdown files whose blocks are checked. */
export const markdownFiles = () => {
  const list = (dir, keep) =>
    fs.existsSync(path.join(root, dir))
      ? fs.readdirSync(path.join(root, dir)).filter(keep).sort().map((name) => path.posix.join(dir, name))
      : []
  const packages = list("packages", (name) => fs.existsSync(path.join(root, "packages", name, "README.md")))
  return ["README.md", ...list("docs", (name) => name.endsWith(".md")), ...packages.map((p) => `${p}/README.md`)]
}

// Splits `a: T, b: Map<K, V>` at the commas outside brackets.
const splitTopLevel = (text) => {
  const parts = []
  let depth = 0
  let current = ""
  for (const char of text) {
    if ("<([{".includes(char)) depth++
    if (">)]}".includes(char)) depth--
    if (char === "," && depth === 0) {
      parts.push(current)
      current = ""
    } else current += char
  }
  parts.push(current)
  return parts.map((part) => part.trim()).filter((part) => part.length > 0)
}

const parseAssumed = (line) => {
  const colon = line.indexOf(":")
  if (colon < 0) throw new Error(`"assumes:" wants name: Type, got "${line}"`)
  return { name: line.slice(0, colon).trim(), type: line.slice(colon + 1).trim() }
}

/** Every TypeScript block: where it is, its code, the names it assumes, whether it runs. */
export const extract = () =>
  markdownFiles().flatMap((file) => {
    const lines = fs.readFileSync(path.join(root, file), "utf8").split("\n")
    const blocks = []
    for (let i = 0; i < lines.length; i++) {
      const open = /^(\s*)(`{3,})(ts|typescript)\s*$/.exec(lines[i])
      if (open === null) {
        if (/^\s*`{3,}\S*/.test(lines[i])) { // another language's block: skip to its end
          const fence = /^\s*(`{3,})/.exec(lines[i])[1]
          while (++i < lines.length && !lines[i].trim().startsWith(fence));
        }
        continue
      }
      const start = i + 1
      let end = start
      while (end < lines.length && !lines[end].trim().startsWith(open[2])) end++
      const code = lines.slice(start, end).map((line) => line.startsWith(open[1]) ? line.slice(open[1].length) : line)
      const header = code.slice(0, code.findIndex((line) => !/^\s*\/\//.test(line)) >>> 0)
      blocks.push({
        file,
        line: start + 1,
        code,
        runnable: header.some((line) => RUNNABLE.test(line)),
        excerptOf: header.map((line) => EXCERPT.exec(line)?.[1]).find((source) => source !== undefined),
        assumes: header.flatMap((line) => {
          const match = ASSUMES.exec(line)
          return match === null ? [] : splitTopLevel(match[1]).map(parseAssumed)
        })
      })
      i = end
    }
    return blocks
  })

const blockName = (block) => `${block.file.replace(/\.md$/, "").replace(/[^A-Za-z0-9]+/g, "_")}_L${block.line}`

// The block as a module: its own lines first (so line numbers match), the assumed names after; a runnable block
// reads them from the environment on its marker line instead.
const moduleText = (block) => {
  if (block.excerptOf !== undefined) return "export {}\n"
  if (!block.runnable) {
    return [...block.code, "", ...block.assumes.map(({ name, type }) => `declare const ${name}: ${type}`), ""]
      .join("\n")
  }
  const marker = block.code.findIndex((line) => RUNNABLE.test(line))
  const names = block.assumes.map(({ name }) => name)
  const types = block.assumes.map(({ name, type }) => `${name}: ${type}`).join("; ")
  const code = [...block.code]
  code[marker] = names.length === 0
    ? "export {}"
    : `const { ${names.join(", ")} } = JSON.parse(process.env["DOC_BLOCK_VALUES"] ?? "{}") as { ${types} }`
  return [...code, ""].join("\n")
}

const importedPackages = (blocks) => {
  const names = new Set()
  for (const block of blocks) {
    for (const match of block.code.join("\n").matchAll(/\bfrom\s+"([^".][^"]*)"|import\("([^".][^"]*)"\)/g)) {
      const specifier = match[1] ?? match[2]
      if (specifier.startsWith("node:")) continue
      const parts = specifier.split("/")
      names.add(specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0])
    }
  }
  return [...names].sort()
}

// Links in what the examples project cannot resolve itself: another workspace package, or a package installed for
// one (pnpm keeps every installed package under node_modules/.pnpm/node_modules); a stub for the rest.
const linkPackages = (blocks) => {
  const modules = path.join(outDir, "node_modules")
  fs.mkdirSync(modules, { recursive: true })
  const declarations = []
  for (const name of importedPackages(blocks)) {
    if (fs.existsSync(path.join(examples, "node_modules", name))) continue
    const installed = path.join(root, "node_modules/.pnpm/node_modules", name)
    if (fs.existsSync(installed)) {
      fs.mkdirSync(path.dirname(path.join(modules, name)), { recursive: true })
      fs.symlinkSync(fs.realpathSync(installed), path.join(modules, name), "dir")
    } else if (name in stubs) {
      declarations.push(`declare module "${name}" {${stubs[name]}\n}`)
    } else {
      throw new Error(`a doc block imports ${name}, which is installed nowhere in the workspace: add a stub`)
    }
  }
  fs.writeFileSync(path.join(outDir, "stubs.d.ts"), declarations.join("\n\n") + "\n")
}

/** Writes every block to its file, with the tsconfig and links; returns the blocks with their file names. */
export const generate = () => {
  const blocks = extract()
  fs.rmSync(outDir, { recursive: true, force: true })
  fs.mkdirSync(outDir, { recursive: true })
  fs.writeFileSync(path.join(outDir, "package.json"), JSON.stringify({ private: true, type: "module" }) + "\n")
  fs.writeFileSync(
    path.join(outDir, "tsconfig.json"),
    JSON.stringify(
      {
        extends: "../../../tsconfig.json",
        compilerOptions: {
          noEmit: true,
          composite: false,
          incremental: false,
          declaration: false,
          declarationMap: false,
          noUnusedLocals: false, // a block may define a value only to show it
          rootDir: "."
        },
        include: ["*.ts"],
        references: []
      },
      null,
      2
    ) + "\n"
  )
  linkPackages(blocks)
  return blocks.map((block) => {
    const name = blockName(block)
    fs.writeFileSync(path.join(outDir, `${name}.ts`), moduleText(block))
    return { ...block, name }
  })
}

// A quoted line as compared: no indentation, no trailing comment.
const normalized = (line) => line.replace(/\s+\/\/.*$/, "").trim()

/** An excerpt's lines that are not in its source file, in order: one message each. */
export const checkExcerpt = (block) => {
  const sourcePath = path.join(root, block.excerptOf)
  if (!fs.existsSync(sourcePath)) return [`${block.file}:${block.line}: ${block.excerptOf} does not exist`]
  const source = fs.readFileSync(sourcePath, "utf8").split("\n").map(normalized)
  const messages = []
  let at = 0
  block.code.forEach((line, index) => {
    const wanted = normalized(line)
    if (wanted === "" || wanted.startsWith("//")) return
    const found = source.indexOf(wanted, at)
    if (found < 0) messages.push(`${block.file}:${block.line + index}: not in ${block.excerptOf} (in order): ${wanted}`)
    else at = found + 1
  })
  return messages
}

/** Type-checks the generated files; the messages of each block, by block name. */
export const typeCheck = (blocks) => {
  const ts = require("typescript")
  const configPath = path.join(outDir, "tsconfig.json")
  const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"))
    }
  })
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options })
  const byFile = new Map(blocks.map((block) => [path.join(outDir, `${block.name}.ts`), block]))
  const messages = new Map(blocks.map((block) => [block.name, []]))
  const global = []
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const text = ts.flattenDiagnosticMessageText(d.messageText, "\n")
    const block = d.file === undefined ? undefined : byFile.get(path.resolve(d.file.fileName))
    if (block === undefined) {
      global.push(d.file === undefined ? text : `${path.relative(root, d.file.fileName)}: ${text}`)
      continue
    }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0)
    messages.get(block.name).push(`${block.file}:${block.line + line}: TS${d.code}: ${text}`)
  }
  for (const block of blocks) if (block.excerptOf !== undefined) messages.get(block.name).push(...checkExcerpt(block))
  return { messages, global }
}

const emulatorValue = (emulator, code) => ({
  tenantId: emulator.defaults.tenantId,
  clientId: emulator.defaults.clientId,
  clientSecret: emulator.defaults.clientSecret,
  secret: emulator.defaults.clientSecret,
  redirectUri: emulator.defaults.redirectUri,
  scope: emulator.defaults.scope,
  authority: emulator.authority,
  code
})

const runFile = (file, env) =>
  new Promise((resolve) => {
    execFile(process.execPath, [file], { cwd: outDir, env, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ ok: error === null, output: `${stdout}${stderr}`.trim().slice(0, 4000) }))
  })

/** Runs the runnable blocks, two at a time, against one emulator (a fresh code each); the outcome by block name. */
export const runBlocks = async (blocks) => {
  const ts = require("typescript")
  const { startEmulator } = await import(path.join(examples, "node_modules/@effect-entra/emulator/dist/index.js"))
  const emulator = await startEmulator()
  const env = { ...process.env }
  for (const key of Object.keys(env)) if (/_proxy$/i.test(key)) delete env[key]
  Object.assign(env, { AZURE_AUTHORITY_HOST: emulator.authority, NODE_EXTRA_CA_CERTS: emulator.caFile })
  const runOne = async (block) => {
    const source = fs.readFileSync(path.join(outDir, `${block.name}.ts`), "utf8")
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }
    }).outputText
    const file = path.join(outDir, `${block.name}.mjs`)
    fs.writeFileSync(file, js)
    const { code } = await emulator.signIn({ username: "alice@contoso.example" })
    const values = emulatorValue(emulator, code)
    const missing = block.assumes.filter(({ name }) => !(name in values)).map(({ name }) => name)
    if (missing.length > 0) return { ok: false, output: `no emulator value for ${missing.join(", ")}` }
    return runFile(file, { ...env, DOC_BLOCK_VALUES: JSON.stringify(values) })
  }
  const queue = blocks.filter((b) => b.runnable)
  const results = new Map()
  const worker = async () => {
    for (let block = queue.shift(); block !== undefined; block = queue.shift()) {
      results.set(block.name, await runOne(block))
    }
  }
  try {
    await Promise.all([worker(), worker()])
  } finally {
    await emulator.close()
  }
  return results
}

const main = async () => {
  const args = new Set(process.argv.slice(2))
  if (args.has("--list")) {
    const list = extract().map((block) => ({ file: block.file, line: block.line, runnable: block.runnable }))
    process.stdout.write(JSON.stringify(list) + "\n")
    return
  }
  const blocks = generate()
  try {
    await report(args, blocks)
  } finally {
    if (args.has("--keep")) console.error(`kept ${path.relative(root, outDir)}`)
    else fs.rmSync(outDir, { recursive: true, force: true })
  }
}

const report = async (args, blocks) => {
  // The type-check runs in a worker thread, so the emulator (in this thread) answers the runs meanwhile.
  const checking = new Promise((resolve, reject) => {
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: blocks })
    worker.once("message", ({ global, messages }) => resolve({ global, messages: new Map(messages) }))
    worker.once("error", reject)
  })
  const runs = args.has("--run") ? await runBlocks(blocks) : new Map()
  const { global, messages } = await checking
  const results = blocks.map((block) => ({
    file: block.file,
    line: block.line,
    runnable: block.runnable,
    messages: messages.get(block.name),
    run: runs.get(block.name)
  }))
  if (args.has("--json")) {
    process.stdout.write(JSON.stringify({ global, results }) + "\n")
    return
  }
  let failed = global.length > 0
  for (const message of global) console.error(message)
  for (const result of results) {
    for (const message of result.messages) console.error(message)
    if (result.run !== undefined && !result.run.ok) {
      console.error(`${result.file}:${result.line}: run failed:\n${result.run.output}`)
    }
    if (result.messages.length > 0 || (result.run !== undefined && !result.run.ok)) failed = true
  }
  const ran = results.filter((r) => r.run !== undefined).length
  console.log(`${results.length} blocks type-checked${ran > 0 ? `, ${ran} run against the emulator` : ""}`)
  process.exitCode = failed ? 1 : 0
}

if (!isMainThread && parentPort !== null) {
  const { global, messages } = typeCheck(workerData)
  parentPort.postMessage({ global, messages: [...messages] })
} else if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main()
}
