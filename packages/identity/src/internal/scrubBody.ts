/**
 * A deny-list scrub for texts this package does not parse (another library's error messages, which may quote a
 * response). Token-endpoint bodies are never kept this way: see errorBody.ts.
 */
const maxBodyKept = 2048
const secretFields =
  /("(?:access_token|refresh_token|id_token|client_secret|code|code_verifier|client_assertion)"\s*:\s*)"(?:[^"\\]|\\.)*"/g
const jwtLike = /eyJ[\w-]+\.[\w-]+\.[\w-]*/g

/** Replaces token-like values with `***` and truncates. */
export const scrubBody = (body: string): string => {
  const scrubbed = body.replace(secretFields, "$1\"***\"").replace(jwtLike, "***")
  return scrubbed.length > maxBodyKept ? `${scrubbed.slice(0, maxBodyKept)}...(truncated)` : scrubbed
}
