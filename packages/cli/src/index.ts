/**
 * @since 0.1.0
 */
export * as Browser from "./Browser.js"
/**
 * @since 0.1.0
 */
export * as Cli from "./Cli.js"
/**
 * @since 0.1.0
 */
export * as CliError from "./CliError.js"
/**
 * @since 0.1.0
 */
export * as CliOptions from "./CliOptions.js"
/**
 * @since 0.1.0
 */
export * as CliSettings from "./CliSettings.js"
/**
 * @since 0.1.0
 */
export * as DeviceCodeLogin from "./DeviceCodeLogin.js"
/**
 * @since 0.1.0
 */
export * as EmulatorCommand from "./EmulatorCommand.js"
/**
 * @since 0.1.0
 */
export * as EmulatorInfo from "./EmulatorInfo.js"
/**
 * @since 0.1.0
 */
export * as Help from "./Help.js"
/**
 * @since 0.1.0
 */
export * as LoginCommand from "./LoginCommand.js"
/**
 * @since 0.1.0
 */
export * as LogoutCommand from "./LogoutCommand.js"
/**
 * @since 0.1.0
 */
export * as LoopbackReceiver from "./LoopbackReceiver.js"
/**
 * @since 0.1.0
 */
export * as Output from "./Output.js"
/**
 * @since 0.1.0
 */
export * as Session from "./Session.js"
/**
 * @since 0.1.0
 */
export * as SignedIn from "./SignedIn.js"
/**
 * @since 0.1.0
 */
export * as Spinner from "./Spinner.js"
/**
 * @since 0.1.0
 */
export * as StatusCommand from "./StatusCommand.js"
/**
 * @since 0.1.0
 */
export * as TerminalText from "./TerminalText.js"
/**
 * @since 0.1.0
 */
export * as TokenCommand from "./TokenCommand.js"
/**
 * @since 0.1.0
 */
export * as TokenOutput from "./TokenOutput.js"
