import type { FunctionTool, ToolValidationMode } from '@cy/core'
import Ajv, { type ValidateFunction } from 'ajv'
import { RE2 } from 're2-wasm'

export type ValidationResult = { valid: true } | { valid: false; message: string }

/**
 * Patterns from a request run in RE2 (linear time, no backtracking), never in the JavaScript engine: a
 * pattern such as `^(a+)+$` cannot stall the event loop. RE2 has no lookaround or backreferences; a
 * schema using them does not compile (a 400).
 */
const re2 = Object.assign((pattern: string, flags: string) => new RE2(pattern, flags.includes('u') ? flags : `${flags}u`), { code: 're2-wasm' })

/**
 * Checks a model's tool calls against the request's tools, in the seed's three modes: `none` trusts
 * the model; `relaxed` wants a known tool and JSON object arguments with every required field present
 * and not empty; `strict` validates the arguments against the tool's JSON Schema (ajv).
 */
export class ToolCallValidator {
  readonly #tools = new Map<string, FunctionTool['function']>()
  readonly #compiled = new Map<string, ValidateFunction | string>()
  static #ajv: Ajv | undefined
  /** Compiled schemas by their JSON text, shared across requests (agents send the same tools each turn). */
  static readonly #shared = new Map<string, ValidateFunction | string>()
  static readonly #sharedLimit = 256

  constructor(tools: FunctionTool[] = []) {
    for (const tool of tools) this.#tools.set(tool.function.name, tool.function)
  }

  hasTool(name: string): boolean {
    return this.#tools.has(name)
  }

  validate(call: { name: string; arguments: string }, mode: ToolValidationMode): ValidationResult {
    if (mode === 'none') return { valid: true }
    const tool = this.#tools.get(call.name)
    if (!tool) return { valid: false, message: `no tool is named '${call.name}'` }
    let args: unknown
    try {
      args = JSON.parse(call.arguments || '{}')
    } catch {
      return { valid: false, message: `the arguments of '${call.name}' are not JSON` }
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args)) return { valid: false, message: `the arguments of '${call.name}' are not an object` }
    if (mode === 'relaxed') {
      const required = (tool.parameters as { required?: unknown } | undefined)?.required
      for (const field of Array.isArray(required) ? required : []) {
        const value = (args as Record<string, unknown>)[String(field)]
        if (value === undefined || value === null || value === '') return { valid: false, message: `'${call.name}' needs '${field}'` }
      }
      return { valid: true }
    }
    const check = this.#schema(call.name, tool)
    if (typeof check === 'string') return { valid: false, message: check }
    if (check(args)) return { valid: true }
    const first = check.errors?.[0]
    return { valid: false, message: `the arguments of '${call.name}' do not match its schema: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim() }
  }

  #schema(name: string, tool: FunctionTool['function']): ValidateFunction | string {
    let compiled = this.#compiled.get(name)
    if (compiled) return compiled
    compiled = ToolCallValidator.compile(tool.parameters ?? { type: 'object' })
    if (typeof compiled === 'string') compiled = `the schema of '${name}' does not compile: ${compiled}`
    this.#compiled.set(name, compiled)
    return compiled
  }

  /** A JSON Schema compiled, or why it does not compile; shared across requests by its JSON text. */
  static compile(schema: Record<string, unknown>, key = JSON.stringify(schema)): ValidateFunction | string {
    const shared = ToolCallValidator.#shared
    let compiled = shared.get(key)
    if (compiled) return compiled
    const ajv = (ToolCallValidator.#ajv ??= new Ajv({ strict: false, allErrors: false, code: { regExp: re2 } }))
    try {
      compiled = ajv.compile(schema)
      // Ajv keeps every schema object it compiled; ours are per request, so let it forget them.
      ajv.removeSchema(schema)
    } catch (error) {
      compiled = (error as Error).message
    }
    if (shared.size >= ToolCallValidator.#sharedLimit) shared.delete(shared.keys().next().value!)
    shared.set(key, compiled)
    return compiled
  }
}
