/**
 * The version printed by `--version`, in a module of its own so that `effect-entra --version` loads nothing else.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category constants
 */
export const version = "0.1.0"
