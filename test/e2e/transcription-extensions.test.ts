import { OutputChunk, type AsrRequest } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { toFile } from 'openai'
import { assertMatchesSchema } from '../support/openapi-validator.ts'
import { recordingClient } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'

// A scripted ASR model that tells what SenseVoice tells beyond the text (the HTTP layer is under test here).
let server: Server
let seen: AsrRequest | undefined
beforeAll(async () => {
  server = await startTestServer({}, (s) => {
    s.registerASR(
      'rich',
      (req, out) => {
        seen = req
        out.push(OutputChunk.transcriptSegment({ id: 0, start: 0, end: 1.2, text: 'Hello.', emotion: 'HAPPY', event: 'Speech' }))
        out.push(OutputChunk.transcriptSegment({ id: 1, start: 1.2, end: 2, text: ' Ha ha.', emotion: 'HAPPY', event: 'Laughter' }))
        out.push(OutputChunk.transcriptInfo({ language: 'en', duration: 2, emotion: 'HAPPY', events: ['Speech', 'Laughter'], ...(req.include?.includes('raw_text') ? { rawText: '<|en|><|HAPPY|><|Speech|><|withitn|>Hello. Ha ha.' } : {}) }))
        out.end()
      },
      { supports: { asr: ['language', 'include', 'text_norm'] } },
    )
    s.registerASR('plain', (_req, out) => {
      out.push(OutputChunk.finalText('hi'))
      out.end()
    })
  })
})
afterAll(() => server.stop())

const clip = () => toFile(new Uint8Array(64), 'clip.wav', { type: 'audio/wav' })

test('json and verbose_json carry the emotion, audio events and per-segment tags; valid against the spec', async () => {
  const { client, last } = recordingClient(server.url)
  await client.audio.transcriptions.create({ model: 'rich', file: await clip() })
  const json = JSON.parse((await last()).text)
  assertMatchesSchema('CreateTranscriptionResponseJson', json)
  expect(json).toEqual({ text: 'Hello. Ha ha.', language: 'en', emotion: 'HAPPY', audio_events: ['Speech', 'Laughter'] })
  await client.audio.transcriptions.create({ model: 'rich', file: await clip(), response_format: 'verbose_json' })
  const verbose = JSON.parse((await last()).text)
  assertMatchesSchema('CreateTranscriptionResponseVerboseJson', verbose)
  expect(verbose).toMatchObject({ language: 'en', emotion: 'HAPPY', audio_events: ['Speech', 'Laughter'] })
  expect(verbose.segments.map((s: { emotion: string; event: string }) => [s.emotion, s.event])).toEqual([
    ['HAPPY', 'Speech'],
    ['HAPPY', 'Laughter'],
  ])
  expect(verbose.raw_text).toBeUndefined()
})

test('include[]=raw_text and text_norm reach the model; raw_text comes back', async () => {
  const { client, last } = recordingClient(server.url)
  await client.audio.transcriptions.create({ model: 'rich', file: await clip(), ...({ include: ['raw_text'], text_norm: 'without_itn' } as object) } as never)
  expect(seen).toMatchObject({ include: ['raw_text'], text_norm: 'without_itn' })
  expect(JSON.parse((await last()).text).raw_text).toBe('<|en|><|HAPPY|><|Speech|><|withitn|>Hello. Ha ha.')
})

test('a model that does not declare them refuses text_norm and include instead of ignoring them', async () => {
  for (const [field, value] of [['text_norm', 'with_itn'], ['include[]', 'raw_text']] as const) {
    const form = new FormData()
    form.append('model', 'plain')
    form.append('file', new File([new Uint8Array(64)], 'clip.wav'))
    form.append(field, value)
    const response = await fetch(`${server.url}/v1/audio/transcriptions`, { method: 'POST', body: form })
    expect(response.status).toBe(400)
    expect((await response.json()).error).toMatchObject({ code: 'unsupported_parameter', param: field.replace('[]', '') })
  }
})
