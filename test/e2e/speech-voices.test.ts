import { OutputChunk } from '@cy/core'
import { ffmpegPath } from '@cy/audio'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { recordingClient } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'

// Scripted TTS models (the HTTP layer is under test; test/adapter-tts runs the real engines): one at 22.05 kHz
// with two voices that says it ignores `instructions`, one with no voice list.
const RATE = 22_050
const half = () => new Uint8Array(new Int16Array(RATE / 2).fill(1000).buffer)
let server: Server
beforeAll(async () => {
  server = await startTestServer({}, (s) => {
    s.registerTTS(
      'piper-like',
      (_req, out) => {
        out.push(OutputChunk.audio(half(), 'pcm', RATE, 1))
        out.end()
      },
      { metadata: { voices: [{ id: 'amy', name: 'Amy', language: 'en-us' }, { id: 'thorsten', name: 'Thorsten', language: 'de' }, { name: 'no id' }], ignoredParameters: ['instructions'] } },
    )
    s.registerTTS('bare', (_req, out) => {
      out.push(OutputChunk.audio(half(), 'pcm', RATE, 1))
      out.end()
    })
  })
})
afterAll(() => server.stop())

async function probeRate(bytes: Uint8Array): Promise<number> {
  const child = Bun.spawn([ffmpegPath()!, '-hide_banner', '-i', 'pipe:0', '-f', 'null', '-'], { stdin: new Blob([bytes as Uint8Array<ArrayBuffer>]), stderr: 'pipe' })
  return Number(/Audio: [^,]+, (\d+) Hz/.exec(await new Response(child.stderr).text())?.[1])
}

test('GET /v1/audio/voices lists each model\'s voices with language and model; ?model= keeps one; an unknown model is a 404', async () => {
  const all = await (await fetch(`${server.url}/v1/audio/voices`)).json()
  expect(all).toEqual({
    voices: [
      { id: 'amy', name: 'Amy', language: 'en-us', model: 'piper-like' },
      { id: 'thorsten', name: 'Thorsten', language: 'de', model: 'piper-like' },
    ],
  })
  expect((await (await fetch(`${server.url}/v1/audio/voices?model=bare`)).json()).voices).toEqual([])
  const unknown = await fetch(`${server.url}/v1/audio/voices?model=nope`)
  expect(unknown.status).toBe(404)
  expect((await unknown.json()).error.param).toBe('model')
  const model = await (await fetch(`${server.url}/v1/models/piper-like`)).json()
  expect(model.cy.voices.map((voice: { id: string }) => voice.id)).toEqual(['amy', 'thorsten'])
})

test('pcm states its rate (OpenAI\'s 24 kHz, or sample_rate); wav keeps the model\'s rate unless sample_rate names one', async () => {
  const post = (body: object) => fetch(`${server.url}/v1/audio/speech`, { method: 'POST', body: JSON.stringify({ model: 'piper-like', input: 'hi', voice: 'amy', ...body }) })
  const pcm = await post({ response_format: 'pcm' })
  expect(pcm.headers.get('x-sample-rate')).toBe('24000')
  // Half a second at 24 kHz, 16-bit mono.
  expect(Math.abs((await pcm.arrayBuffer()).byteLength - 24_000)).toBeLessThan(400)
  const pcm16 = await post({ response_format: 'pcm', sample_rate: 16000 })
  expect(pcm16.headers.get('x-sample-rate')).toBe('16000')
  expect(Math.abs((await pcm16.arrayBuffer()).byteLength - 16_000)).toBeLessThan(400)
  expect(await probeRate(new Uint8Array(await (await post({ response_format: 'wav' })).arrayBuffer()))).toBe(RATE)
  expect(await probeRate(new Uint8Array(await (await post({ response_format: 'wav', sample_rate: 16000 })).arrayBuffer()))).toBe(16000)
  const opus = await post({ response_format: 'opus', sample_rate: 22050 })
  expect(opus.status).toBe(400)
  expect((await opus.json()).error.param).toBe('sample_rate')
})

test('instructions a model does not apply: accepted, with a Warning header saying so; none for a model that does not say', async () => {
  const { client } = recordingClient(server.url)
  const warned = await client.audio.speech.create({ model: 'piper-like', input: 'hi', voice: 'amy', response_format: 'wav', instructions: 'cheerful' }).asResponse()
  expect(warned.headers.get('warning')).toContain('instructions')
  const plain = await client.audio.speech.create({ model: 'piper-like', input: 'hi', voice: 'amy', response_format: 'wav' }).asResponse()
  expect(plain.headers.get('warning')).toBeNull()
})
