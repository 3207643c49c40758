// Run by `npm test` before the engine tier: finds (or builds, once, with its progress on the terminal) the
// whisper.cpp and stable-diffusion.cpp libraries the engine tests load, so no test sits in a minutes-long
// build. A failure is reported and the tests then fail with the resolver's own error.
import { resolveSdLibrary } from '@cy/adapter-sdxl'
import { resolveWhisperLibrary } from '@cy/adapter-whisper'

let failed = false
for (const [name, resolve] of [
  ['whisper.cpp', resolveWhisperLibrary],
  ['stable-diffusion.cpp', resolveSdLibrary],
] as const) {
  const started = performance.now()
  try {
    const found = await resolve(undefined, (line) => console.error(`[prepare-engines] ${name}: ${line}`))
    console.error(`[prepare-engines] ${name}: ${found.source}, ${found.libDir} (${((performance.now() - started) / 1000).toFixed(1)} s)`)
  } catch (error) {
    failed = true
    console.error(`[prepare-engines] ${name}: ${(error as Error).message}`)
  }
}
process.exit(failed ? 1 : 0)
