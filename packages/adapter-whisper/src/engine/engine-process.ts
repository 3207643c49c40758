import { relaySink, serveWorker } from '@cy/core'
import { readFile } from 'node:fs/promises'
import { WhisperPool } from '../whisper-pool.ts'
import type { EngineOptions, UploadedFile } from './transcribe-args.ts'

// A model's engine process (isolation 'process'). whisper.cpp decodes in one blocking native call, so it
// runs on the pool's Workers, never here: this main thread only relays, so a cancel from the parent is
// read at once and sets the flag whisper's abort callback polls.
let pool: WhisperPool | undefined

serveWorker({
  async load({ name, ...options }: EngineOptions & { name: string }) {
    // A Worker that dies leaves the shared context in an unknown state: the parent restarts the process.
    pool = await WhisperPool.load(options, name, () => process.exit(70))
    return { multilingual: pool.multilingual, version: pool.version }
  },
  async transcribe({ path, ...request }: UploadedFile, out) {
    if (!pool) throw new Error('The model is not loaded')
    // Read off this thread; the bytes then move to the Worker, not copied.
    const read = await readFile(path)
    const file = new Uint8Array(read.buffer, read.byteOffset, read.byteLength)
    await pool.transcribe({ ...request, file }, relaySink(out))
  },
  async dispose() {
    await pool?.dispose()
    pool = undefined
  },
})
