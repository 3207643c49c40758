import { relaySink, serveWorker } from '@cy/core'
import { readFile } from 'node:fs/promises'
import { SdPool } from '../sd-pool.ts'
import type { EngineOptions, GenerateRequest, UploadedGenerateRequest } from './generate-args.ts'
import { phaseHeartbeat } from './phase-heartbeat.ts'
import { encodePreviews } from './raw-preview.ts'

// A model's relay: the main thread of its engine process (isolation 'process'), or a Worker of the
// server's process (isolation 'worker'). generate_image blocks the thread it runs on, so it runs on the
// pool's Workers, never here: this thread stays free, so a cancel from the server is read at once and
// sets the flag the generating Worker polls at every step, and preview frames (raw, from a thread that
// cannot await) are encoded here while the sampler goes on.
let pool: SdPool | undefined

const readUpload = async (path: string) => {
  const read = await readFile(path)
  return new Uint8Array(read.buffer, read.byteOffset, read.byteLength)
}

serveWorker({
  async load({ name, ...options }: EngineOptions & { parallel: number; name: string }) {
    // In a process, a Worker that dies leaves a context in an unknown state: the parent restarts the process.
    pool = await SdPool.load(options, name, Bun.isMainThread ? () => process.exit(70) : undefined)
    return pool.info
  },
  async generate({ imagePaths, maskPath, ...args }: UploadedGenerateRequest & Pick<GenerateRequest, 'images' | 'mask'>, out) {
    if (!pool) throw new Error('The model is not loaded')
    // An engine process gets uploads as files (read off this thread); a relay Worker gets the bytes.
    const request: GenerateRequest = { ...args }
    if (imagePaths) request.images = await Promise.all(imagePaths.map(readUpload))
    if (maskPath) request.mask = await readUpload(maskPath)
    const heartbeat = phaseHeartbeat(relaySink(out))
    const sink = encodePreviews(heartbeat, request.outputFormat, request.outputCompression)
    try {
      await pool.generate(request, sink)
    } catch (error) {
      // The previews already on their way go first; the failure is the call's own.
      await sink.flush().catch(() => {})
      throw error
    } finally {
      heartbeat.stop()
    }
    await sink.flush()
  },
  async dispose() {
    await pool?.dispose()
    pool = undefined
  },
})
