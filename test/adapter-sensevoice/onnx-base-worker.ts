// A Worker for onnx-base.test.ts: loads an ONNX session and runs it on transferred inputs, as an engine Worker does.
import { feedsFor, loadOnnxSession } from '@cy/onnx'

declare const self: Worker

export type OnnxBaseWorkerRequest = { path: string; name: string; data: Float32Array; dims: number[] }
export type OnnxBaseWorkerReply = { type: 'loaded' } | { type: 'done'; runMs: number; first: number } | { type: 'error'; message: string }

let pending: OnnxBaseWorkerRequest | undefined
self.onmessage = async (event: MessageEvent<OnnxBaseWorkerRequest | 'run'>) => {
  try {
    if (event.data !== 'run') {
      pending = event.data
      await loadOnce(pending.path)
      self.postMessage({ type: 'loaded' } satisfies OnnxBaseWorkerReply)
      return
    }
    const { session } = await loadOnce(pending!.path)
    const started = performance.now()
    const out = await session.run(feedsFor(session, { [pending!.name]: { data: pending!.data, dims: pending!.dims } }))
    const first = (Object.values(out)[0]!.data as Float32Array)[0]!
    self.postMessage({ type: 'done', runMs: performance.now() - started, first } satisfies OnnxBaseWorkerReply)
  } catch (error) {
    self.postMessage({ type: 'error', message: (error as Error).message } satisfies OnnxBaseWorkerReply)
  }
}

let loaded: ReturnType<typeof loadOnnxSession> | undefined
function loadOnce(path: string): ReturnType<typeof loadOnnxSession> {
  loaded ??= loadOnnxSession(path, { threads: 1, providers: ['cpu'] })
  return loaded
}
