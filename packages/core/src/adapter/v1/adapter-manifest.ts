import type { Capability } from '../../capability.ts'
import type { ToolCallMode } from '../../generation/tool-modes.ts'

/** What an adapter says about itself before it loads anything. */
export interface AdapterManifest {
  /** Short unique name used in configs (`"adapter": "llama"`). */
  name: string
  /** The npm package it ships in. */
  packageName?: string
  /** Capabilities its models can have. */
  capabilities: Capability[]
  /** The engine and its pinned version ("llama.cpp b6500"). */
  engine: { name: string; version: string }
  /** File extensions it may claim in a models folder (".gguf"). */
  fileExtensions?: string[]
  /** How its models take tools, known before one loads (a lazy model on a cluster worker bridges from the start); default native. */
  toolCalls?: ToolCallMode
}
