/**
 * The emulator's HTTP routes, each wrapped in the shared request envelope.
 *
 * @internal
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as AdminConsentEndpoint from "../AdminConsentEndpoint.js"
import * as AuthorizeEndpoint from "../AuthorizeEndpoint.js"
import * as DeviceCode from "../DeviceCode.js"
import * as Discovery from "../Discovery.js"
import type { EmulatorContext } from "../EmulatorState.js"
import * as Management from "../Management.js"
import * as ProtectedResource from "../ProtectedResource.js"
import * as Session from "../Session.js"
import * as TokenEndpoint from "../TokenEndpoint.js"
import { endpoint } from "./endpoint.js"

/** @internal */
export const routes = (ctx: EmulatorContext) => {
  const mgmt = endpoint(ctx, "other", (info) => Management.handle(ctx, info.path.split("/")[2] ?? "", info))
  const authorize = endpoint(ctx, "authorize", (info) => AuthorizeEndpoint.handle(ctx, info))
  const token = endpoint(ctx, "token", (info) => TokenEndpoint.handle(ctx, info))
  const adminConsent = endpoint(ctx, "other", (info) => AdminConsentEndpoint.handle(ctx, info))
  const deviceLogin = endpoint(ctx, "other", (info) => DeviceCode.loginPage(ctx, info))
  const logout = endpoint(ctx, "other", (info) => Session.logout(ctx, info))
  const userinfo = endpoint(ctx, "userinfo", (info) => Session.userinfo(ctx, info))
  return HttpRouter.empty.pipe(
    HttpRouter.get("/_emulator/:action", mgmt),
    HttpRouter.post("/_emulator/:action", mgmt),
    HttpRouter.del("/_emulator/:action", mgmt),
    HttpRouter.get("/_resource/me", endpoint(ctx, "resource", (info) => ProtectedResource.me(ctx, info))),
    HttpRouter.get("/common/discovery/instance", endpoint(ctx, "instance", (info) => Discovery.instance(ctx, info))),
    HttpRouter.get("/:tenant/oauth2/v2.0/authorize", authorize),
    HttpRouter.post("/:tenant/oauth2/v2.0/authorize", authorize),
    HttpRouter.all("/:tenant/oauth2/v2.0/token", token),
    HttpRouter.get("/:tenant/v2.0/adminconsent", adminConsent),
    HttpRouter.post("/:tenant/v2.0/adminconsent", adminConsent),
    HttpRouter.all(
      "/:tenant/oauth2/v2.0/devicecode",
      endpoint(ctx, "devicecode", (info) => DeviceCode.authorize(ctx, info))
    ),
    HttpRouter.get("/devicelogin", deviceLogin),
    HttpRouter.post("/devicelogin", deviceLogin),
    HttpRouter.get("/:tenant/oauth2/v2.0/logout", logout),
    HttpRouter.post("/:tenant/oauth2/v2.0/logout", logout),
    HttpRouter.get("/oidc/userinfo", userinfo),
    HttpRouter.post("/oidc/userinfo", userinfo),
    HttpRouter.get(
      "/:tenant/v2.0/.well-known/openid-configuration",
      endpoint(ctx, "openid-configuration", (info) => Discovery.openIdConfiguration(ctx, info))
    ),
    HttpRouter.get("/:tenant/discovery/v2.0/keys", endpoint(ctx, "keys", (info) => Discovery.keys(ctx, info)))
  )
}
