import type { OutputChannel, TranscriptSegmentChunk, TranscriptWordChunk } from '@cy/core'

export interface Transcript {
  text: string
  language: string | undefined
  duration: number | undefined
  emotion?: string
  events?: string[]
  rawText?: string
  segments: TranscriptSegmentChunk[]
  words: TranscriptWordChunk[]
}

/** Gathers an ASR handler's chunks. Text comes from final text, else deltas, else the segments. */
export async function collectTranscript(channel: OutputChannel): Promise<Transcript> {
  let finalText: string | undefined
  let deltas = ''
  const transcript: Transcript = { text: '', language: undefined, duration: undefined, segments: [], words: [] }
  for await (const chunk of channel) {
    switch (chunk.type) {
      case 'final-text':
        finalText = chunk.text
        break
      case 'text-delta':
        deltas += chunk.text
        break
      case 'transcript-info':
        transcript.language = chunk.language ?? transcript.language
        transcript.duration = chunk.duration ?? transcript.duration
        if (chunk.emotion !== undefined) transcript.emotion = chunk.emotion
        if (chunk.events !== undefined) transcript.events = chunk.events
        if (chunk.rawText !== undefined) transcript.rawText = chunk.rawText
        break
      case 'transcript-segment':
        transcript.segments.push(chunk)
        break
      case 'transcript-word':
        transcript.words.push(chunk)
        break
    }
  }
  transcript.text = finalText ?? (deltas || transcript.segments.map((segment) => segment.text).join(''))
  return transcript
}

/** Segments to show in timed formats; a transcript without any becomes one segment spanning the audio. */
function timedSegments(transcript: Transcript): TranscriptSegmentChunk[] {
  if (transcript.segments.length > 0) return transcript.segments
  return [{ type: 'transcript-segment', start: 0, end: transcript.duration ?? 0, text: transcript.text }]
}

function timestamp(seconds: number, decimalMark: ',' | '.'): string {
  const totalMs = Math.max(0, Math.round(seconds * 1000))
  const ms = totalMs % 1000
  const totalSeconds = Math.floor(totalMs / 1000)
  const pad = (n: number, width = 2) => String(n).padStart(width, '0')
  return `${pad(Math.floor(totalSeconds / 3600))}:${pad(Math.floor(totalSeconds / 60) % 60)}:${pad(totalSeconds % 60)}${decimalMark}${pad(ms, 3)}`
}

export function toSrt(transcript: Transcript): string {
  return timedSegments(transcript)
    .map((s, i) => `${i + 1}\n${timestamp(s.start, ',')} --> ${timestamp(s.end, ',')}\n${s.text.trim()}\n`)
    .join('\n')
}

export function toVtt(transcript: Transcript): string {
  const cues = timedSegments(transcript).map((s) => `${timestamp(s.start, '.')} --> ${timestamp(s.end, '.')}\n${s.text.trim()}\n`)
  return `WEBVTT\n\n${cues.join('\n')}`
}

export function toVerboseJson(transcript: Transcript, task: 'transcribe' | 'translate', temperature: number, withWords: boolean) {
  const body: Record<string, unknown> = {
    task,
    language: transcript.language ?? 'unknown',
    duration: transcript.duration ?? transcript.segments.at(-1)?.end ?? 0,
    text: transcript.text,
    segments: transcript.segments.map((s, i) => ({
      id: s.id ?? i,
      seek: Math.round(s.start * 100),
      start: s.start,
      end: s.end,
      text: s.text,
      tokens: s.tokens ?? [],
      temperature: s.temperature ?? temperature,
      avg_logprob: s.avgLogprob ?? 0,
      compression_ratio: s.compressionRatio ?? 0,
      no_speech_prob: s.noSpeechProb ?? 0,
      ...(s.emotion === undefined ? {} : { emotion: s.emotion }),
      ...(s.event === undefined ? {} : { event: s.event }),
    })),
    ...transcriptExtensions(transcript),
  }
  if (withWords) body.words = transcript.words.map((w) => ({ word: w.word, start: w.start, end: w.end }))
  return body
}

/** The `json` format: OpenAI's `text`, with what the model told beyond it (SDKs ignore keys they do not know). */
export function toJson(transcript: Transcript) {
  return { text: transcript.text, ...(transcript.emotion !== undefined || transcript.events !== undefined ? { language: transcript.language } : {}), ...transcriptExtensions(transcript) }
}

/** Extension keys: the emotion and audio events a model like SenseVoice reports, and the raw text when asked. */
function transcriptExtensions(transcript: Transcript): Record<string, unknown> {
  return {
    ...(transcript.emotion === undefined ? {} : { emotion: transcript.emotion }),
    ...(transcript.events === undefined ? {} : { audio_events: transcript.events }),
    ...(transcript.rawText === undefined ? {} : { raw_text: transcript.rawText }),
  }
}

