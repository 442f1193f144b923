/**
 * The HTML of the interactive flow: a sign-in page (pick a user or type a username), a consent page (Accept /
 * Cancel) and the `form_post` auto-submitting form. Inline CSS, no scripts or third-party resources except the
 * one-line auto-submit of `form_post`.
 *
 * Stable hooks for browser automation: `#username`, `button#next`, `button.user[data-username]`, `#error`,
 * `button#accept`, `button#cancel`, `form#signin`, `form#consent`.
 *
 * @since 0.1.0
 */
import type { App, User } from "./EmulatorConfig.js"
import { escapeHtml } from "./EntraErrors.js"

/**
 * The stylesheet shared by every page.
 *
 * @since 0.1.0
 * @category constants
 */
export const styles = `
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:linear-gradient(135deg,#eef3fb 0%,#dfe8f6 100%);font:15px/1.45 "Segoe UI",system-ui,-apple-system,Helvetica,Arial,sans-serif;color:#1b1b1b}
.card{width:440px;max-width:calc(100vw - 32px);background:#fff;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2);border-radius:4px}
.brand{display:flex;align-items:center;gap:8px;font-weight:600;color:#5e5e5e;font-size:15px;margin-bottom:16px}
.brand:before{content:"";width:20px;height:20px;background:conic-gradient(#f25022 0 25%,#7fba00 0 50%,#00a4ef 0 75%,#ffb900 0);border-radius:2px}
h1{font-size:24px;font-weight:600;margin:0 0 12px}
p{margin:0 0 12px}
.muted{color:#616161;font-size:13px}
label{display:block;font-size:13px;color:#616161;margin:12px 0 4px}
input[type=text]{width:100%;padding:6px 0;border:0;border-bottom:1px solid #666;font:inherit;outline:none}
input[type=text]:focus{border-bottom:2px solid #0067b8}
.users{display:flex;flex-direction:column;gap:6px;margin:8px 0 16px}
button.user{display:flex;flex-direction:column;align-items:flex-start;width:100%;padding:10px 12px;background:#fff;border:1px solid #d1d1d1;border-radius:2px;font:inherit;cursor:pointer;text-align:left}
button.user:hover{background:#f2f2f2}
button.user small{color:#616161}
.actions{display:flex;justify-content:flex-end;gap:8px;margin-top:24px}
button.primary,button.secondary{min-width:108px;padding:6px 12px;font:inherit;border-radius:2px;cursor:pointer;border:1px solid transparent}
button.primary{background:#0067b8;color:#fff}
button.primary:hover{background:#005da6}
button.secondary{background:#cccccc;color:#1b1b1b}
button.secondary:hover{background:#bababa}
.error{color:#e81123;font-size:14px;margin:8px 0}
ul.scopes{padding-left:20px;margin:8px 0 16px}
ul.scopes li{margin:4px 0}
code{font-family:Consolas,Menlo,monospace;font-size:13px;background:#f3f3f3;padding:1px 4px;border-radius:2px}
.details{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;font-size:12px;color:#616161;margin-top:20px;word-break:break-all}
.details dt{font-weight:600}.details dd{margin:0}
.footer{margin-top:24px;font-size:12px;color:#767676}
`

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
  `<meta name="viewport" content="width=device-width, initial-scale=1"><style>${styles}</style></head>` +
  `<body>${body}</body></html>`

const hidden = (params: URLSearchParams) =>
  [...params].filter(([k]) => !k.startsWith("emu_") && k !== "username")
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join("")

/**
 * @since 0.1.0
 * @category models
 */
export interface PageContext {
  /** The authorize URL path the forms post back to. */
  readonly action: string
  /** The original authorize parameters, carried through the forms. */
  readonly params: URLSearchParams
  readonly app: App
}

/**
 * Sign in: the configured users as buttons, or a username field.
 *
 * @since 0.1.0
 * @category pages
 */
export const signIn = (
  pc: PageContext,
  users: ReadonlyArray<User>,
  options: { readonly loginHint?: string | undefined; readonly error?: string | undefined } = {}
): string =>
  page(
    "Sign in to your account",
    `<main class="card" id="signin-page"><div class="brand">Entra ID emulator</div><h1>Sign in</h1>` +
      `<p class="muted">to continue to <strong>${escapeHtml(pc.app.displayName)}</strong></p>` +
      `<form id="signin" method="post" action="${escapeHtml(pc.action)}">${hidden(pc.params)}` +
      `<input type="hidden" name="emu_step" value="signin">` +
      (users.length > 0 ?
        `<p class="muted">Pick an account</p><div class="users" id="users">` +
        users.map((u) =>
          `<button type="submit" class="user" name="emu_pick" value="${escapeHtml(u.username)}" ` +
          `data-username="${escapeHtml(u.username)}"><span>${escapeHtml(u.name)}</span>` +
          `<small>${escapeHtml(u.username)}</small></button>`
        ).join("") + `</div>` :
        "") +
      `<label for="username">Or type a username</label>` +
      `<input type="text" id="username" name="username" autocomplete="username" placeholder="someone@example.com" ` +
      `value="${escapeHtml(options.loginHint ?? "")}">` +
      (options.error === undefined ? "" : `<p class="error" id="error" role="alert">${escapeHtml(options.error)}</p>`) +
      `<div class="actions"><button type="submit" class="primary" id="next" name="emu_next" value="1">Next</button></div>` +
      `</form><p class="footer">A local emulator of Microsoft Entra ID. No password needed.</p></main>`
  )

const describeScope = (scope: string): string => {
  switch (scope.toLowerCase()) {
    case "openid":
      return "Sign you in"
    case "profile":
      return "View your basic profile"
    case "email":
      return "View your email address"
    case "offline_access":
      return "Maintain access to data you have given it access to"
    default:
      return "Access the API on your behalf"
  }
}

/**
 * Consent: the requested scopes, with Accept and Cancel.
 *
 * @since 0.1.0
 * @category pages
 */
export const consent = (
  pc: PageContext,
  user: User,
  scopes: ReadonlyArray<string>,
  options: { readonly forOrganization?: string | undefined } = {}
): string =>
  page(
    "Permissions requested",
    `<main class="card" id="consent-page"><div class="brand">Entra ID emulator</div>` +
      `<p class="muted" id="signed-in-user">${escapeHtml(user.username)}</p><h1>Permissions requested</h1>` +
      `<p><strong>${escapeHtml(pc.app.displayName)}</strong> would like to:</p><ul class="scopes" id="scopes">` +
      scopes.map((s) => `<li data-scope="${escapeHtml(s)}">${describeScope(s)} <code>${escapeHtml(s)}</code></li>`)
        .join("") +
      `</ul>` +
      (options.forOrganization === undefined ?
        "" :
        `<p id="for-organization">Accepting grants these permissions for every user of ` +
        `<strong>${escapeHtml(options.forOrganization)}</strong> (consent on behalf of your organization).</p>`) +
      `<p class="muted">Accepting lets this app use your data as its terms of service and privacy statement ` +
      `describe.</p><form id="consent" method="post" action="${escapeHtml(pc.action)}">${hidden(pc.params)}` +
      `<input type="hidden" name="emu_step" value="consent"><input type="hidden" name="emu_user" ` +
      `value="${escapeHtml(user.username)}"><div class="actions">` +
      `<button type="submit" class="secondary" id="cancel" name="emu_action" value="cancel">Cancel</button>` +
      `<button type="submit" class="primary" id="accept" name="emu_action" value="accept">Accept</button>` +
      `</div></form></main>`
  )

/**
 * The `response_mode=form_post` answer: a form that posts the result to the redirect URI on load.
 *
 * @since 0.1.0
 * @category pages
 */
export const formPost = (redirectUri: string, fields: ReadonlyArray<readonly [string, string]>): string =>
  `<!doctype html><html><head><meta charset="utf-8"><title>Working...</title></head>` +
  `<body onload="document.forms[0].submit()"><form method="POST" name="hiddenform" action="${
    escapeHtml(redirectUri)
  }">` +
  fields.map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}" />`).join("") +
  `<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit" /></noscript>` +
  `</form></body></html>`
