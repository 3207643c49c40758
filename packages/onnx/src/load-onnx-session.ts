import { availableParallelism } from 'node:os'
import type { InferenceSession } from 'onnxruntime-node'
import { defaultProviders, providerUnavailableReason, type OnnxProvider } from './execution-providers.ts'
import { OnnxSessionLoadError } from './onnx-session-load-error.ts'
import { onnxRuntime } from './onnx-runtime.ts'

export interface LoadOnnxSessionOptions {
  /** `intraOpNumThreads` (default: half the cores, at least 1). */
  threads?: number
  /** `interOpNumThreads` (default 1: our graphs are sequential). */
  interOpThreads?: number
  /** Providers to try in order (default: `defaultProviders()`, best first); the first that loads wins. */
  providers?: readonly OnnxProvider[]
  /** Where each skip, failure and the winner are reported. */
  log?: (line: string) => void
}

export interface LoadedOnnxSession {
  session: InferenceSession
  provider: OnnxProvider
}

/** Half the cores, at least one: the other half stays for the server and the audio decoding. */
export function defaultOnnxThreads(): number {
  return Math.max(1, Math.floor(availableParallelism() / 2))
}

/**
 * Creates a session on the best provider that works, logging each one skipped or failed with its reason.
 * `session.run()` blocks its thread, so call this inside an engine Worker or process, never on the server's
 * main thread.
 */
export async function loadOnnxSession(path: string, options: LoadOnnxSessionOptions = {}): Promise<LoadedOnnxSession> {
  const ort = onnxRuntime()
  const log = options.log ?? (() => {})
  const providers = options.providers ?? defaultProviders()
  const attempts: Array<{ provider: string; reason: string }> = []
  const sessionOptions: InferenceSession.SessionOptions = {
    intraOpNumThreads: options.threads ?? defaultOnnxThreads(),
    interOpNumThreads: options.interOpThreads ?? 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // Errors only: onnxruntime's warnings (nodes placed on CPU by a GPU provider...) would flood stderr.
    logSeverityLevel: 3,
  }
  for (const [i, provider] of providers.entries()) {
    const next = providers[i + 1] === undefined ? 'none left' : `trying ${providers[i + 1]}`
    const unavailable = providerUnavailableReason(provider)
    if (unavailable !== undefined) {
      attempts.push({ provider, reason: unavailable })
      log(`onnx: ${provider} skipped: ${unavailable}; ${next}`)
      continue
    }
    try {
      const session = await ort.InferenceSession.create(path, { ...sessionOptions, executionProviders: [provider] })
      log(`onnx: ${path} loaded on ${provider} (${sessionOptions.intraOpNumThreads} threads)`)
      return { session, provider }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      attempts.push({ provider, reason })
      log(`onnx: ${provider} failed: ${reason}; ${next}`)
    }
  }
  throw new OnnxSessionLoadError(path, attempts)
}
