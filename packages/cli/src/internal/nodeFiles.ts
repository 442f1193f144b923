/**
 * Node's `FileSystem` and `Path`, for reads and writes of the CLI's own files when the caller provides none. A
 * module of its own so that it is loaded only then: a cached `token` provides a lighter `FileSystem`.
 *
 * @internal
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as Layer from "effect/Layer"

export const layer = Layer.merge(NodeFileSystem.layer, NodePath.layer)
