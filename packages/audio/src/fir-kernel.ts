/** fir-kernel.wat, compiled (wat2wasm fir-kernel.wat -o - | base64 -w0). */
const WASM = 'AGFzbQEAAAABDgFgCn9/f39/f39/f38AAg8BA2VudgZtZW1vcnkCAAEDAgEABwcBA2ZpcgAACpICAY8CAgZ/AnsCQANAIAogBE8NASAJBH8gBQUgBSAIbEEBdCAGaiAGQQF0bgshDCAAIAwgAWxBAnRqIQ0gAiALQQJ0aiEOIA0gAUECdGohD/0MAAAAAAAAAAAAAAAAAAAAACEQ/QwAAAAAAAAAAAAAAAAAAAAAIREDQCAQIA79AAQAIA39AAQA/eYB/eQBIRAgESAO/QAEECAN/QAEEP3mAf3kASERIA5BIGohDiANQSBqIQ0gDSAPSQ0ACyAQIBH95AEhECADIApBAnRqIBD9HwAgEP0fAZIgEP0fAiAQ/R8DkpI4AgAgBSAHaiEFIAUgBk8EQCALIAUgBm5qIQsgBSAGcCEFCyAKQQFqIQoMAAsLCw=='

export type FirKernel = (kernels: number, taps: number, input: number, output: number, count: number, numerator: number, up: number, down: number, phases: number, exact: number) => void

let compiled: WebAssembly.Module | null | undefined

/** The SIMD inner loop, instantiated on `memory`; null where WebAssembly SIMD is not available (the caller loops in JS). */
export function firKernel(memory: WebAssembly.Memory): FirKernel | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(Uint8Array.from(atob(WASM), (c) => c.charCodeAt(0)))
    } catch {
      compiled = null
    }
  }
  return compiled && (new WebAssembly.Instance(compiled, { env: { memory } }).exports.fir as FirKernel)
}
