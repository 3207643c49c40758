import { BadRequestError, ProviderError, type AudioChunk, type OutputChannel, type SpeechFormat, type UsageChunk } from '@cy/core'
import { wavHeader } from '../encoders/wav-header.ts'
import { AUDIO_CONTENT_TYPES, FFMPEG_OUTPUT_ARGS, OPENAI_PCM_RATE, OPUS_RATES } from './audio-formats.ts'
import { ffmpegPath, ffmpegPipe } from '@cy/audio'

export interface SpeechAudio {
  contentType: string
  /** The audio in the asked format, as the provider produces it. */
  bytes: AsyncIterable<Uint8Array>
  /** Filled in once `bytes` is consumed. */
  usage: () => UsageChunk | undefined
}

/**
 * Waits for the provider's first audio, then picks the cheapest path to the asked format: as is,
 * a WAV header in front of PCM, or ffmpeg. Errors before any audio surface here, before headers are sent.
 */
export async function speechAudio(channel: OutputChannel, target: SpeechFormat, outputRate?: number): Promise<SpeechAudio> {
  if (target === 'opus' && outputRate !== undefined && !OPUS_RATES.includes(outputRate)) {
    throw new BadRequestError(`Opus is encoded at ${OPUS_RATES.join(', ')} Hz, not ${outputRate}`, { param: 'sample_rate', code: 'unsupported_value' })
  }
  let usage: UsageChunk | undefined
  let backlog: AudioChunk[] = []
  let first: AudioChunk | undefined
  while (!first) {
    const chunks = await channel.take()
    if (chunks === null) throw new ProviderError('The model produced no audio')
    for (const chunk of chunks) {
      if (chunk.type === 'audio') {
        first ??= chunk
        backlog.push(chunk)
      } else if (chunk.type === 'usage') usage = chunk
    }
  }

  async function* source(): AsyncGenerator<AudioChunk> {
    yield* backlog
    backlog = []
    for (let chunks = await channel.take(); chunks !== null; chunks = await channel.take()) {
      for (const chunk of chunks) {
        if (chunk.type === 'audio') yield chunk
        else if (chunk.type === 'usage') usage = chunk
      }
    }
  }
  async function* data(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source()) yield chunk.data
  }

  const sampleRate = first.sampleRate ?? OPENAI_PCM_RATE
  const channels = first.channels ?? 1
  const contentType = AUDIO_CONTENT_TYPES[target]
  const result = (bytes: AsyncIterable<Uint8Array>): SpeechAudio => ({ contentType, bytes, usage: () => usage })

  // OpenAI's pcm is 24 kHz; every other format keeps the model's rate unless the request names one.
  const rate = outputRate ?? (target === 'pcm' ? OPENAI_PCM_RATE : sampleRate)
  if (first.format === target && rate === sampleRate && (target !== 'pcm' || channels === 1)) return result(data())
  if (first.format === 'pcm' && target === 'wav' && rate === sampleRate) {
    return result(
      (async function* () {
        yield wavHeader(sampleRate, channels)
        yield* data()
      })(),
    )
  }
  if (!ffmpegPath()) {
    throw new BadRequestError(
      `This model produces ${first.format} audio, and converting it to '${target}' needs ffmpeg, which is not installed here. Ask for response_format '${first.format === 'pcm' ? 'wav' : first.format}'.`,
      { param: 'response_format', code: 'unsupported_value' },
    )
  }
  const input = first.format === 'pcm' ? ['-f', 's16le', '-ar', String(sampleRate), '-ac', String(channels), '-i', 'pipe:0'] : ['-i', 'pipe:0']
  // pcm always names its rate: an encoded source's own rate is not known here.
  const resample = target === 'pcm' || rate !== sampleRate ? ['-ar', String(rate)] : []
  return result(ffmpegPipe([...input, ...FFMPEG_OUTPUT_ARGS[target], ...resample, 'pipe:1'], data()))
}
