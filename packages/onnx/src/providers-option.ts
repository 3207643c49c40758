import { ONNX_PROVIDERS, type OnnxProvider } from './execution-providers.ts'

/** An adapter's `providers` option: a non-empty list of known providers, best first (undefined: the default choice). */
export function providersOption(value: unknown, adapter: string): OnnxProvider[] | undefined {
  if (value === undefined) return undefined
  const valid = (p: unknown): p is OnnxProvider => (ONNX_PROVIDERS as readonly unknown[]).includes(p)
  if (!Array.isArray(value) || value.length === 0 || !value.every(valid)) {
    throw new Error(`${adapter} option 'providers' must be a list of ${ONNX_PROVIDERS.join(', ')} (best first), not ${JSON.stringify(value)}`)
  }
  return value
}
