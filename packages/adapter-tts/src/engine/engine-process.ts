import { relaySink, serveWorker } from '@cy/core'
import { TtsWorker } from '../tts-worker.ts'
import type { EngineOptions, SpeakArgs } from './speak-args.ts'

// A model's engine process (isolation 'process'). session.run blocks the thread it runs on, so the session
// lives in a Worker, never here: this main thread only relays, so a cancel from the parent is read at once
// and sets the flag the Worker reads between pieces.
let worker: TtsWorker | undefined

serveWorker({
  async load(options: EngineOptions) {
    // A Worker that dies takes its session with it: the parent restarts the process.
    worker = await TtsWorker.load(options, () => process.exit(70))
    return worker.info
  },
  async speak(args: SpeakArgs, out) {
    if (!worker) throw new Error('The model is not loaded')
    await worker.speak(args, relaySink(out))
  },
  async dispose() {
    await worker?.dispose()
    worker = undefined
  },
})
