import { ffmpegPath } from '@cy/audio'

/** What ffmpeg made of a speech response: the stream's rate and channels, and the decoded length. */
export interface DecodedSpeech {
  sampleRate: number
  channels: number
  seconds: number
  /** The decoded audio, 16-bit mono at `sampleRate`. */
  samples: Int16Array
}

/**
 * Decodes a `/v1/audio/speech` body with ffmpeg (not our own encoders) to check what a client would hear:
 * raw `pcm` needs its rate (the `x-sample-rate` header), every other format says its own.
 */
export async function decodeSpeech(bytes: Uint8Array, format: string, pcmRate = 24_000): Promise<DecodedSpeech> {
  const ffmpeg = ffmpegPath()
  if (!ffmpeg) throw new Error('decodeSpeech needs ffmpeg (a system one or @ffmpeg-installer/ffmpeg)')
  const input = format === 'pcm' ? ['-f', 's16le', '-ar', String(pcmRate), '-ac', '1', '-i', 'pipe:0'] : ['-i', 'pipe:0']
  const child = Bun.spawn([ffmpeg, '-hide_banner', '-nostdin', ...input, '-f', 's16le', '-ac', '1', 'pipe:1'], {
    stdin: new Blob([bytes as Uint8Array<ArrayBuffer>]),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [out, log, code] = await Promise.all([new Response(child.stdout).arrayBuffer(), new Response(child.stderr).text(), child.exited])
  const stream = /Audio: [^,]+, (\d+) Hz, (mono|stereo|\d+ channels)/.exec(log)
  if (code !== 0 || !stream) throw new Error(`ffmpeg could not decode the ${format} audio (exit ${code}):\n${log}`)
  const sampleRate = Number(stream[1])
  const channels = stream[2] === 'mono' ? 1 : stream[2] === 'stereo' ? 2 : Number.parseInt(stream[2]!, 10)
  const samples = new Int16Array(out)
  return { sampleRate, channels, seconds: samples.length / sampleRate, samples }
}
