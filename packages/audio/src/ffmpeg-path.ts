import { createRequire } from 'node:module'
import { join } from 'node:path'

let found: string | null | undefined

/** ffmpeg from the `@ffmpeg-installer/ffmpeg` npm package, where the app installed it. */
function packagedFfmpeg(): string | null {
  for (const base of [join(process.cwd(), 'package.json'), import.meta.path]) {
    try {
      return (createRequire(base)('@ffmpeg-installer/ffmpeg') as { path: string }).path
    } catch {
      // Not installed from there.
    }
  }
  return null
}

/** The ffmpeg binary: `CY_FFMPEG`, else ffmpeg on PATH, else the npm-packaged one; null if none. Looked up once. */
export function ffmpegPath(): string | null {
  if (found === undefined) found = process.env.CY_FFMPEG || Bun.which('ffmpeg') || packagedFfmpeg()
  return found
}
