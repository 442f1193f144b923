/**
 * The claims of an Entra v2 access token, decoded (not verified: the resource verifies) for display.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category schemas
 */
export const AccessTokenClaims = Schema.Struct({
  aud: Schema.String,
  iss: Schema.String,
  iat: Schema.Number,
  exp: Schema.Number,
  tid: Schema.String,
  oid: Schema.String,
  name: Schema.optional(Schema.String),
  preferred_username: Schema.optional(Schema.String),
  scp: Schema.optional(Schema.String),
  ver: Schema.String,
  xms_cc: Schema.optional(Schema.Array(Schema.String))
})

/**
 * @since 0.1.0
 * @category models
 */
export interface AccessTokenClaims extends Schema.Schema.Type<typeof AccessTokenClaims> {}

const Payload = Schema.compose(Schema.StringFromBase64Url, Schema.parseJson(AccessTokenClaims))

/**
 * Decodes the payload of a JWT. The error names the problem, never the token.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (jwt: string): Effect.Effect<AccessTokenClaims, Error> => {
  const payload = jwt.split(".")[1]
  return payload === undefined
    ? Effect.fail(new Error("The access token is not a JWT"))
    : Schema.decodeUnknown(Payload)(payload).pipe(
      Effect.mapError(() => new Error("The access token's payload is not the expected JSON"))
    )
}
