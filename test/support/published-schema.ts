import Ajv from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'

type Spec = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>> }

/**
 * The schemas a running server publishes in its own /openapi.json, to check its answers against:
 * `check(method, route, status, body)` throws naming the mismatch (`route` as the spec writes it,
 * `/api/v1/models/{modelId}`).
 */
export async function publishedSchemas(baseUrl: string, headers: Record<string, string> = {}) {
  const spec = (await (await fetch(`${baseUrl}/openapi.json`, { headers })).json()) as Spec
  const ajv = new Ajv({ strict: false, allErrors: true })
  addFormats(ajv)
  // TypeBox marks integers with a format of its own; the type already says it.
  ajv.addFormat('integer', true)
  return {
    spec,
    check(method: string, route: string, status: number, body: unknown): void {
      const content = spec.paths[route]?.[method]?.responses[String(status)]?.content
      const schema = content?.['application/json']?.schema ?? Object.values(content ?? {})[0]?.schema
      if (!schema) throw new Error(`${method} ${route} publishes no schema for ${status}`)
      const validate = ajv.compile(schema as object)
      if (!validate(body)) throw new Error(`${method} ${route} ${status} does not match its published schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`)
    },
  }
}
