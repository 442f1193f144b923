/**
 * The help of `effect-entra` and of each command, rendered here from the command definitions (their descriptions and
 * options) rather than by `@effect/cli`, whose help names the program `$ token`, lists its built-in options under
 * every command and always writes colour codes.
 *
 * Each command's help lists only the options that command takes, plus `-h, --help`. Colour (bold headings and option
 * names) only when {@link TerminalText.useColor} says so.
 *
 * @since 0.1.0
 */
import * as CliConfig from "@effect/cli/CliConfig"
import * as Command from "@effect/cli/Command"
import type * as HelpDoc from "@effect/cli/HelpDoc"
import type * as Span from "@effect/cli/HelpDoc/Span"

/**
 * @since 0.1.0
 * @category models
 */
export interface RenderOptions {
  readonly color: boolean
  /** Line width for wrapping. */
  readonly width?: number | undefined
}

const config = CliConfig.make({ showBuiltIns: false })

/**
 * The text of a span, without styles.
 *
 * @since 0.1.0
 * @category rendering
 */
export const spanText = (span: Span.Span): string => {
  const node = span as unknown as { readonly value?: unknown; readonly left?: Span.Span; readonly right?: Span.Span }
  if (typeof node.value === "string") return node.value
  if (node.value !== undefined) return spanText(node.value as Span.Span)
  return node.left !== undefined && node.right !== undefined ? spanText(node.left) + spanText(node.right) : ""
}

type Block =
  | { readonly _tag: "Header"; readonly text: string }
  | { readonly _tag: "Paragraph"; readonly text: string }
  | { readonly _tag: "Option"; readonly name: string; readonly paragraphs: ReadonlyArray<string> }

const blocks = (doc: HelpDoc.HelpDoc): ReadonlyArray<Block> => {
  switch (doc._tag) {
    case "Empty":
      return []
    case "Header":
      return [{ _tag: "Header", text: spanText(doc.value) }]
    case "Paragraph":
      return [{ _tag: "Paragraph", text: spanText(doc.value) }]
    case "Sequence":
      return [...blocks(doc.left), ...blocks(doc.right)]
    case "Enumeration":
      return doc.elements.flatMap(blocks)
    case "DescriptionList":
      return doc.definitions.map(([name, body]) => ({
        _tag: "Option",
        name: spanText(name),
        paragraphs: blocks(body).flatMap((block) => block._tag === "Paragraph" ? [block.text] : [])
      }))
  }
}

/**
 * The text of a help document (an error message of `@effect/cli`), paragraphs on their own lines, without styles.
 *
 * @since 0.1.0
 * @category rendering
 */
export const helpDocText = (doc: HelpDoc.HelpDoc): string =>
  blocks(doc).map((block) => block._tag === "Option" ? [block.name, ...block.paragraphs].join(" ") : block.text).join(
    "\n"
  )

// What @effect/cli adds to every option: the type of its value and whether it is optional or repeatable, which the
// option's name line already shows (`--scope text...`, `[--json]` in the usage).
const boilerplate = [
  /^A user-defined piece of text\.$/,
  /^A true or false value\.$/,
  /^An? (integer|floating point number|existing file|existing directory|file|directory|date)\b.*\.$/i,
  /^One of the following: /,
  /^This setting is optional\.$/,
  /^This option may be repeated/,
  /^This option is optional/
]

const isBoilerplate = (text: string) => text.trim() === "" || boilerplate.some((pattern) => pattern.test(text))

/**
 * Words wrapped at `width` columns; lines after the first start with `indent`, the first after `offset` columns
 * already used.
 *
 * @since 0.1.0
 * @category rendering
 */
export const wrap = (text: string, width: number, indent: string, offset: number = indent.length): string => {
  const words = text.split(/\s+/).filter((word) => word !== "")
  const lines: Array<string> = []
  let line = ""
  let used = offset
  for (const word of words) {
    if (line !== "" && used + 1 + word.length > width) {
      lines.push(line)
      line = indent + word
      used = line.length
    } else {
      line = line === "" ? word : `${line} ${word}`
      used += (line === word ? 0 : 1) + word.length
    }
  }
  if (line !== "") lines.push(line)
  return lines.join("\n")
}

const style = (color: boolean) => (text: string) => color ? `\x1b[1m${text}\x1b[0m` : text

/**
 * The one-line description of a command.
 *
 * @since 0.1.0
 * @category rendering
 */
export const summary = (command: Command.Command<any, any, any, any>): string => {
  const first = blocks(Command.getHelp(command, config)).find((block) => block._tag === "Paragraph")
  return first?._tag === "Paragraph" ? first.text : ""
}

const optionLines = (name: string, paragraphs: ReadonlyArray<string>, options: RenderOptions): Array<string> => {
  const width = options.width ?? 100
  const text = paragraphs.filter((p) => !isBoilerplate(p)).join(" ")
  // @effect/cli writes an option with an alias as `(-o, --output text)`.
  const shown = name.replace(/^\((.*)\)$/, "$1")
  return [`  ${style(options.color)(shown)}`, ...(text === "" ? [] : [`      ${wrap(text, width, "      ")}`])]
}

/**
 * The help of one command: its description, its usage line and its options, then `-h, --help`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderCommand = (
  name: string,
  command: Command.Command<any, any, any, any>,
  options: RenderOptions
): string => {
  const bold = style(options.color)
  const width = options.width ?? 100
  const lines: Array<string> = []
  const parsed = blocks(Command.getHelp(command, config))
  for (const block of parsed) {
    if (block._tag === "Paragraph") lines.push(wrap(block.text, width, "", 0), "")
  }
  // The options follow: a usage line listing them all would repeat them, and cannot say which may be repeated.
  lines.push(bold("USAGE"), `  effect-entra ${name} [options]`, "", bold("OPTIONS"))
  for (const block of parsed) {
    if (block._tag === "Option") lines.push(...optionLines(block.name, block.paragraphs, options))
  }
  lines.push(...optionLines("-h, --help", ["Show this help"], options))
  return lines.join("\n")
}

/**
 * The help of the program: its description, the commands with their summaries and the options it takes alone.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderRoot = (
  description: string,
  commands: ReadonlyArray<readonly [string, Command.Command<any, any, any, any>]>,
  options: RenderOptions
): string => {
  const bold = style(options.color)
  const width = options.width ?? 100
  const pad = Math.max(...commands.map(([name]) => name.length)) + 2
  return [
    wrap(description, width, "", 0),
    "",
    bold("USAGE"),
    "  effect-entra <command> [options]",
    "",
    bold("COMMANDS"),
    ...commands.map(([name, command]) =>
      `  ${bold(name)}${" ".repeat(pad - name.length)}${wrap(summary(command), width, " ".repeat(pad + 2))}`
    ),
    "",
    bold("OPTIONS"),
    ...optionLines("-h, --help", ["Show this help; after a command, that command's options"], options),
    ...optionLines("--version", ["Print the version"], options),
    ...optionLines("--completions sh | bash | fish | zsh", ["Print a completion script for a shell"], options),
    ...optionLines(
      "--no-color",
      ["No colour in the help (also NO_COLOR=1, or output that is not a terminal)"],
      options
    ),
    "",
    "Run `effect-entra <command> --help` for the options of a command."
  ].join("\n")
}
