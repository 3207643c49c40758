import Ajv from 'ajv/dist/2020.js'
import type { ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'

/** OpenAI's official spec, beside the project as ../shared (CI clones it there too). */
export const OPENAI_SPEC_PATH = join(import.meta.dir, '..', '..', '..', 'shared', 'openai', 'openapi.yaml')

const SPEC_ID = 'openai.json'

let ajv: Ajv | undefined

/**
 * OpenAPI 3.1 documents are JSON Schema 2020-12, but this one still carries some 3.0 `nullable: true`:
 * rewrite each into the 3.1 form (a `null` type, or `anyOf` with null) so a plain validator reads it.
 */
function withoutNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutNullable)
  if (typeof node !== 'object' || node === null) return node
  const { nullable, ...rest } = node as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(rest)) out[key] = withoutNullable(value)
  if (nullable !== true) return out
  if (Array.isArray(out.enum)) out.enum = [...out.enum, null]
  if (typeof out.type === 'string') return { ...out, type: [out.type, 'null'] }
  if (Array.isArray(out.type)) return { ...out, type: [...out.type, 'null'] }
  return { anyOf: [out, { type: 'null' }] }
}
const compiled = new Map<string, ValidateFunction>()
let spec: { components: { schemas: unknown } } | undefined

/** The spec, read and parsed once. */
function parsedSpec(): { components: { schemas: unknown } } {
  spec ??= parse(readFileSync(OPENAI_SPEC_PATH, 'utf8'))
  return spec!
}

function instance(): Ajv {
  if (ajv) return ajv
  const { components } = parsedSpec()
  // The spec mixes OpenAPI keywords (nullable, x-*, discriminator) into its schemas: let them pass.
  ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, discriminator: false })
  addFormats(ajv)
  ajv.addFormat('unixtime', true)
  ajv.addFormat('binary', true)
  ajv.addFormat('double', true)
  ajv.addFormat('float', true)
  ajv.addSchema({ $id: SPEC_ID, components: withoutNullable(components) })
  return ajv
}

/** Validates `value` against `#/components/schemas/<name>` of OpenAI's spec; throws with the errors. */
export function assertMatchesSchema(name: string, value: unknown): void {
  let validate = compiled.get(name)
  if (!validate) {
    validate = instance().compile({ $ref: `${SPEC_ID}#/components/schemas/${name}` })
    compiled.set(name, validate)
  }
  if (!validate(value)) {
    const errors = (validate.errors ?? []).slice(0, 8).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`)
    throw new Error(`Body does not match OpenAI schema ${name}:\n${errors.join('\n')}\nBody: ${JSON.stringify(value).slice(0, 800)}`)
  }
}


/**
 * Validates a stream event against the member of a union (like `ResponseStreamEvent`) whose `type` it
 * carries, so a failure names what is wrong with that event rather than listing every member.
 */
export function assertMatchesEvent(union: string, event: { type: string }): void {
  const schemas = parsedSpec().components.schemas as Record<string, { anyOf?: Array<{ $ref: string }>; properties?: { type?: { enum?: string[] } } }>
  const member = (schemas[union]?.anyOf ?? [])
    .map((ref) => ref.$ref.split('/').pop()!)
    .find((name) => schemas[name]?.properties?.type?.enum?.includes(event.type))
  if (!member) throw new Error(`No member of ${union} has type '${event.type}'`)
  assertMatchesSchema(member, event)
}
