import type { SpeechFormat } from '@cy/core'

export const AUDIO_CONTENT_TYPES: Record<SpeechFormat, string> = {
  mp3: 'audio/mpeg',
  opus: 'audio/ogg',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
}

/** OpenAI's `pcm` is raw 16-bit little-endian mono at 24 kHz. */
export const OPENAI_PCM_RATE = 24_000

/** The rates Opus encodes at. */
export const OPUS_RATES = [8000, 12000, 16000, 24000, 48000]

/** ffmpeg output arguments for each format (the rate is added when it changes). */
export const FFMPEG_OUTPUT_ARGS: Record<SpeechFormat, string[]> = {
  mp3: ['-c:a', 'libmp3lame', '-b:a', '128k', '-f', 'mp3'],
  opus: ['-c:a', 'libopus', '-b:a', '64k', '-f', 'ogg'],
  aac: ['-c:a', 'aac', '-b:a', '128k', '-f', 'adts'],
  flac: ['-c:a', 'flac', '-f', 'flac'],
  wav: ['-c:a', 'pcm_s16le', '-f', 'wav'],
  pcm: ['-c:a', 'pcm_s16le', '-ac', '1', '-f', 's16le'],
}
