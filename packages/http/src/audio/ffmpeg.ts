let found: string | null | undefined

/** The ffmpeg binary on PATH (or `CY_FFMPEG`), or null. Looked up once. */
export function ffmpegPath(): string | null {
  if (found === undefined) found = process.env.CY_FFMPEG || Bun.which('ffmpeg')
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
