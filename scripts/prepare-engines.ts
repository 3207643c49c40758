// Run by `npm test` before the engine tier: finds (or builds, once, with its progress on the terminal) the
// whisper.cpp and stable-diffusion.cpp libraries the engine tests load, libmtmd (llama.cpp's vision library, built
// against the prebuilt libllama), and llama.cpp's own llama-server (the vision tests' reference), so no test sits
// in a minutes-long build. A failure is reported and the tests then
// fail with the resolver's own error.
import { resolveLlamaLibrary, resolveMtmdLibrary } from '@cy/adapter-llama'
import { resolveSdLibrary } from '@cy/adapter-sdxl'
import { resolveWhisperLibrary } from '@cy/adapter-whisper'
import { llamaServer } from '../test/fixtures/llama/build-llama-server.ts'

type Log = (line: string) => void
const library = (resolve: typeof resolveWhisperLibrary) => async (log: Log) => {
  const found = await resolve(undefined, log)
  return `${found.source}, ${found.libDir}`
}

let failed = false
for (const [name, prepare] of [
  ['whisper.cpp', library(resolveWhisperLibrary)],
  ['stable-diffusion.cpp', library(resolveSdLibrary)],
  ['libmtmd', async (log: Log) => resolveMtmdLibrary((await resolveLlamaLibrary(undefined, log)).dir, undefined, log)],
  ['llama-server', (log: Log) => llamaServer({ log })],
] as const) {
  const started = performance.now()
  try {
    const found = await prepare((line) => console.error(`[prepare-engines] ${name}: ${line}`))
    console.error(`[prepare-engines] ${name}: ${found} (${((performance.now() - started) / 1000).toFixed(1)} s)`)
  } catch (error) {
    failed = true
    console.error(`[prepare-engines] ${name}: ${(error as Error).message}`)
  }
}
process.exit(failed ? 1 : 0)
