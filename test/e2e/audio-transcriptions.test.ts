import { OutputChunk, type AsrRequest } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { toFile } from 'openai'
import { assertMatchesSchema } from '../support/openapi-validator.ts'
import { recordingClient, sseFrames } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'

const SEGMENTS = [
  { start: 0, end: 1.5, text: ' Hello there.' },
  { start: 1.5, end: 3.25, text: ' General Kenobi.' },
]
const WORDS = [
  { word: 'Hello', start: 0, end: 0.6 },
  { word: 'there', start: 0.7, end: 1.4 },
]
let server: Server
let seen: AsrRequest | undefined

beforeAll(async () => {
  server = await startTestServer({}, (s) =>
    s.registerASR('asr', (req, out) => {
      seen = req
      out.push(OutputChunk.transcriptInfo({ language: req.language ?? 'en', duration: 3.25 }))
      SEGMENTS.forEach((segment, id) =>
        out.push(OutputChunk.transcriptSegment({ id, ...segment, tokens: [id + 1], avgLogprob: -0.2, noSpeechProb: 0.01, compressionRatio: 1.1 })),
      )
      if (req.timestamp_granularities?.includes('word')) for (const w of WORDS) out.push(OutputChunk.transcriptWord(w.word, w.start, w.end))
      out.end()
    }),
  )
})
afterAll(() => server.stop())

const audio = () => toFile(new Uint8Array([82, 73, 70, 70, 1, 2, 3, 4]), 'clip.wav', { type: 'audio/wav' })

describe('POST /v1/audio/transcriptions', () => {
  test('json (default): the text, matching the schema; the handler gets the file bytes', async () => {
    const { client, last } = recordingClient(server.url)
    const result = await client.audio.transcriptions.create({ model: 'asr', file: await audio(), language: 'fr', prompt: 'names', temperature: 0.2 })
    expect(result.text).toBe(' Hello there. General Kenobi.')
    assertMatchesSchema('CreateTranscriptionResponseJson', JSON.parse((await last()).text))
    expect(seen).toMatchObject({ task: 'transcribe', model: 'asr', language: 'fr', prompt: 'names', temperature: 0.2, response_format: 'json' })
    expect(Array.from(seen!.file.bytes)).toEqual([82, 73, 70, 70, 1, 2, 3, 4])
    expect(seen!.file.name).toBe('clip.wav')
  })

  test('text', async () => {
    const { client, last } = recordingClient(server.url)
    const text = await client.audio.transcriptions.create({ model: 'asr', file: await audio(), response_format: 'text' })
    expect(String(text).trim()).toBe('Hello there. General Kenobi.')
    expect((await last()).contentType).toContain('text/plain')
  })

  test('srt: numbered cues with comma timestamps, in order', async () => {
    const { client } = recordingClient(server.url)
    const srt = String(await client.audio.transcriptions.create({ model: 'asr', file: await audio(), response_format: 'srt' }))
    expect(srt).toBe('1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n2\n00:00:01,500 --> 00:00:03,250\nGeneral Kenobi.\n')
  })

  test('vtt: a WEBVTT header and dot timestamps', async () => {
    const { client, last } = recordingClient(server.url)
    const vtt = String(await client.audio.transcriptions.create({ model: 'asr', file: await audio(), response_format: 'vtt' }))
    expect(vtt).toBe('WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello there.\n\n00:00:01.500 --> 00:00:03.250\nGeneral Kenobi.\n')
    expect((await last()).contentType).toContain('text/vtt')
  })

  test('verbose_json: language, duration and segments; words when asked', async () => {
    const { client, last } = recordingClient(server.url)
    const plain = await client.audio.transcriptions.create({ model: 'asr', file: await audio(), response_format: 'verbose_json' })
    expect(plain.language).toBe('en')
    expect(plain.duration).toBe(3.25)
    expect(plain.segments?.map((s) => [s.id, s.start, s.end, s.text, s.tokens])).toEqual([
      [0, 0, 1.5, ' Hello there.', [1]],
      [1, 1.5, 3.25, ' General Kenobi.', [2]],
    ])
    expect(plain.words).toBeUndefined()
    assertMatchesSchema('CreateTranscriptionResponseVerboseJson', JSON.parse((await last()).text))

    const withWords = await client.audio.transcriptions.create({
      model: 'asr',
      file: await audio(),
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
    })
    expect(seen!.timestamp_granularities).toEqual(['word', 'segment'])
    expect(withWords.words).toEqual(WORDS)
    assertMatchesSchema('CreateTranscriptionResponseVerboseJson', JSON.parse((await last()).text))
  })

  test('stream=true: transcript.text.delta events then transcript.text.done', async () => {
    const { client, last } = recordingClient(server.url)
    const stream = await client.audio.transcriptions.create({ model: 'asr', file: await audio(), stream: true })
    const events = []
    for await (const event of stream) events.push(event)
    expect(events.map((e) => e.type)).toEqual(['transcript.text.delta', 'transcript.text.delta', 'transcript.text.done'])
    expect(events.at(-1)).toMatchObject({ type: 'transcript.text.done', text: ' Hello there. General Kenobi.' })
    const frames = sseFrames((await last()).text) as Array<{ type: string }>
    for (const frame of frames) assertMatchesSchema(frame.type === 'transcript.text.done' ? 'TranscriptTextDoneEvent' : 'TranscriptTextDeltaEvent', frame)
  })
})

describe('POST /v1/audio/translations', () => {
  test('the handler is told to translate; json matches the schema', async () => {
    const { client, last } = recordingClient(server.url)
    const result = await client.audio.translations.create({ model: 'asr', file: await audio() })
    expect(result.text).toBe(' Hello there. General Kenobi.')
    expect(seen!.task).toBe('translate')
    assertMatchesSchema('CreateTranslationResponseJson', JSON.parse((await last()).text))
  })

  test('verbose_json matches the translation schema', async () => {
    const { client, last } = recordingClient(server.url)
    await client.audio.translations.create({ model: 'asr', file: await audio(), response_format: 'verbose_json' })
    assertMatchesSchema('CreateTranslationResponseVerboseJson', JSON.parse((await last()).text))
  })
})
