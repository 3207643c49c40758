import { relaySink, serveWorker } from '@cy/core'
import { readFile } from 'node:fs/promises'
import { SenseVoiceWorker } from '../sensevoice-worker.ts'
import type { EngineOptions, UploadedFile } from './transcribe-args.ts'

// A model's engine process (isolation 'process'). session.run blocks the thread it runs on, so the session
// lives in a Worker, never here: this main thread only relays, so a cancel from the parent is read at once
// and sets the flag the Worker reads between segments.
let worker: SenseVoiceWorker | undefined

serveWorker({
  async load({ name, ...options }: EngineOptions & { name: string }) {
    // A Worker that dies takes its session with it: the parent restarts the process.
    worker = await SenseVoiceWorker.load(options, name, () => process.exit(70))
    return worker.info
  },
  async transcribe({ path, ...request }: UploadedFile, out) {
    if (!worker) throw new Error('The model is not loaded')
    // Read off this thread; the bytes then move to the Worker, not copied.
    const read = await readFile(path)
    const file = new Uint8Array(read.buffer, read.byteOffset, read.byteLength)
    await worker.transcribe({ ...request, file }, relaySink(out))
  },
  async dispose() {
    await worker?.dispose()
    worker = undefined
  },
})
