/**
 * The `effect-entra` executable as `tsc -b` builds it (the repository's bin runs it; a published package runs the
 * bundle of {@link main} instead).
 *
 * @since 0.1.0
 */
import { main } from "./main.js"

await main(process.argv)
