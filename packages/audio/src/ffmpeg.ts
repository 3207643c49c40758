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

/**
 * Pipes `input` through ffmpeg with the given arguments and yields what it writes. Stopping the
 * iteration early (the client left) kills the process.
 */
export async function* ffmpegPipe(args: string[], input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const binary = ffmpegPath()
  if (!binary) throw new Error('ffmpeg is not installed')
  const child = Bun.spawn([binary, '-hide_banner', '-loglevel', 'error', ...args], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const feeding = (async () => {
    try {
      for await (const bytes of input) {
        child.stdin.write(bytes)
        await child.stdin.flush()
      }
    } finally {
      await child.stdin.end()
    }
  })()
  feeding.catch(() => child.kill())
  try {
    for await (const bytes of child.stdout as unknown as AsyncIterable<Uint8Array>) yield bytes
    await feeding
    const code = await child.exited
    if (code !== 0) {
      const stderr = await new Response(child.stderr).text()
      throw new Error(`ffmpeg failed (${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`)
    }
  } finally {
    child.kill()
  }
}

/** Decodes any audio ffmpeg reads into 32-bit float mono at `rate`; throws with ffmpeg's last line on failure. */
export async function ffmpegDecode(bytes: Uint8Array, rate: number): Promise<Float32Array> {
  const chunks: Uint8Array[] = []
  let total = 0
  const input = (async function* () {
    yield bytes
  })()
  for await (const chunk of ffmpegPipe(['-i', 'pipe:0', '-vn', '-ac', '1', '-ar', String(rate), '-f', 'f32le', 'pipe:1'], input)) {
    chunks.push(chunk)
    total += chunk.length
  }
  const out = new Uint8Array(total - (total % 4))
  let offset = 0
  for (const chunk of chunks) {
    const room = out.length - offset
    out.set(room < chunk.length ? chunk.subarray(0, room) : chunk, offset)
    offset += Math.min(room, chunk.length)
  }
  return new Float32Array(out.buffer)
}
