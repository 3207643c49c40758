import { CancelledError } from '@cy/core'
import { FfmpegTimeoutError } from './ffmpeg-timeout-error.ts'
import { ffmpegPath } from './ffmpeg-path.ts'

export interface FfmpegRun {
  /** Stops the process (killed, the iteration fails with CancelledError): the client left. */
  signal?: AbortSignal
  /** Kills the process past this many milliseconds; the iteration fails with FfmpegTimeoutError. */
  timeoutMs?: number
  /** Told the process id once it runs, and the bytes it has written so far after each read. */
  onProgress?: (progress: { pid: number; bytes: number }) => void
}

/**
 * Pipes `input` through ffmpeg with the given arguments and yields what it writes. Inputs are read
 * from pipes only (`-protocol_whitelist pipe`: a playlist or concat file cannot reach files or the
 * network). Stopping the iteration early, an abort or the timeout kill the process, and the iteration
 * ends only once it is gone.
 */
export async function* ffmpegPipe(args: string[], input: AsyncIterable<Uint8Array>, run: FfmpegRun = {}): AsyncGenerator<Uint8Array> {
  const binary = ffmpegPath()
  if (!binary) throw new Error('ffmpeg is not installed')
  const cancelled = () => new CancelledError('The audio decoding was cancelled')
  if (run.signal?.aborted) throw cancelled()
  const child = Bun.spawn([binary, '-hide_banner', '-nostats', '-loglevel', 'error', '-protocol_whitelist', 'pipe', ...args], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let stopped: Error | undefined
  const stop = (reason: Error) => {
    stopped ??= reason
    child.kill('SIGKILL')
  }
  const onAbort = () => stop(cancelled())
  run.signal?.addEventListener('abort', onAbort, { once: true })
  const timer = run.timeoutMs ? setTimeout(() => stop(new FfmpegTimeoutError(`ffmpeg took more than ${run.timeoutMs} ms`)), run.timeoutMs) : undefined
  const stderr = new Response(child.stderr).text()
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
  let bytes = 0
  run.onProgress?.({ pid: child.pid, bytes })
  try {
    for await (const chunk of child.stdout as unknown as AsyncIterable<Uint8Array>) {
      if (stopped) break
      bytes += chunk.length
      run.onProgress?.({ pid: child.pid, bytes })
      yield chunk
    }
    const code = await child.exited
    if (stopped) throw stopped
    await feeding
    if (code !== 0) throw new Error(`ffmpeg failed (${code}): ${(await stderr).trim().split('\n').at(-1) ?? ''}`)
  } finally {
    clearTimeout(timer)
    run.signal?.removeEventListener('abort', onAbort)
    child.kill('SIGKILL')
    await child.exited
  }
}

export interface FfmpegDecodeOptions extends FfmpegRun {
  /** Decodes at most this many seconds and a little more: past it the result says `tooLong` (the rest is never decoded). */
  maxSeconds?: number
}

/** Decodes any audio ffmpeg reads into 32-bit float mono at `rate`; throws with ffmpeg's last line on failure. */
export async function ffmpegDecode(bytes: Uint8Array, rate: number, options: FfmpegDecodeOptions = {}): Promise<{ samples: Float32Array; tooLong: boolean }> {
  const chunks: Uint8Array[] = []
  let total = 0
  let tooLong = false
  const input = (async function* () {
    yield bytes
  })()
  const limit = options.maxSeconds === undefined ? Infinity : Math.ceil(options.maxSeconds * rate) * 4
  // -t bounds what ffmpeg decodes (one second past the limit); the byte count stops it the moment the limit is passed.
  const duration = options.maxSeconds === undefined ? [] : ['-t', String(options.maxSeconds + 1)]
  for await (const chunk of ffmpegPipe(['-i', 'pipe:0', '-vn', '-ac', '1', '-ar', String(rate), ...duration, '-f', 'f32le', 'pipe:1'], input, options)) {
    const room = limit - total
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room - (room % 4)))
      tooLong = true
      break
    }
    chunks.push(chunk)
    total += chunk.length
  }
  return { samples: concatFloats(chunks), tooLong }
}

function concatFloats(chunks: Uint8Array[]): Float32Array {
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0)
  const out = new Uint8Array(total - (total % 4))
  let offset = 0
  for (const chunk of chunks) {
    const room = out.length - offset
    out.set(room < chunk.length ? chunk.subarray(0, room) : chunk, offset)
    offset += Math.min(room, chunk.length)
  }
  return new Float32Array(out.buffer)
}
