import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Stream from "effect/Stream"

/**
 * The response as the caller sees it: `request` is the request without the token, and body errors say so too.
 * The signed original is held in a private field, out of reach of `inspect`, `JSON.stringify` and reflection.
 *
 * @internal
 */
export class UnsignedResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly #original: HttpClientResponse.HttpClientResponse

  constructor(original: HttpClientResponse.HttpClientResponse, readonly request: HttpClientRequest.HttpClientRequest) {
    super()
    this.#original = original
  }

  get status() {
    return this.#original.status
  }
  get headers() {
    return this.#original.headers
  }
  get cookies() {
    return this.#original.cookies
  }
  get remoteAddress() {
    return this.#original.remoteAddress
  }
  get text() {
    return Effect.mapError(this.#original.text, (e) => this.#scrub(e))
  }
  get json() {
    return Effect.mapError(this.#original.json, (e) => this.#scrub(e))
  }
  get urlParamsBody() {
    return Effect.mapError(this.#original.urlParamsBody, (e) => this.#scrub(e))
  }
  get arrayBuffer() {
    return Effect.mapError(this.#original.arrayBuffer, (e) => this.#scrub(e))
  }
  get formData() {
    return Effect.mapError(this.#original.formData, (e) => this.#scrub(e))
  }
  get stream() {
    return Stream.mapError(this.#original.stream, (e) => this.#scrub(e))
  }

  #scrub(error: HttpClientError.ResponseError): HttpClientError.ResponseError {
    return new HttpClientError.ResponseError({
      request: this.request,
      response: this,
      reason: error.reason,
      ...(error.cause === undefined ? {} : { cause: error.cause }),
      ...(error.description === undefined ? {} : { description: error.description })
    })
  }

  toJSON(): unknown {
    return HttpIncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }
}

/**
 * The wrapped client's error, pointing at the request without the token.
 *
 * @internal
 */
export const scrubError = <E>(error: E, request: HttpClientRequest.HttpClientRequest): E => {
  if (!HttpClientError.isHttpClientError(error)) return error
  const extra = {
    ...(error.cause === undefined ? {} : { cause: error.cause }),
    ...(error.description === undefined ? {} : { description: error.description })
  }
  return (error._tag === "RequestError"
    ? new HttpClientError.RequestError({ request, reason: error.reason, ...extra })
    : new HttpClientError.ResponseError({
      request,
      response: new UnsignedResponse(error.response, request),
      reason: error.reason,
      ...extra
    })) as E
}
