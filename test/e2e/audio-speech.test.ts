import { OutputChunk, type SpeechRequest } from '@cy/core'
import { ffmpegPath } from '@cy/audio'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { assertMatchesSchema } from '../support/openapi-validator.ts'
import { recordingClient, sseFrames } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'

const RATE = 24_000

/** 16-bit PCM of a 440 Hz tone, produced in several pieces like a streaming TTS engine. */
function tonePieces(seconds: number, pieces: number): Uint8Array[] {
  const total = Math.round(seconds * RATE)
  const samples = new Int16Array(total)
  for (let i = 0; i < total; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / RATE))
  const bytes = new Uint8Array(samples.buffer)
  const size = Math.ceil(bytes.length / pieces / 2) * 2
  const out: Uint8Array[] = []
  for (let offset = 0; offset < bytes.length; offset += size) out.push(bytes.slice(offset, offset + size))
  return out
}

const PIECES = tonePieces(0.5, 5)
const PCM = Buffer.concat(PIECES)
const FAKE_MP3 = new Uint8Array([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0, 1, 2, 3])
let server: Server
let seen: SpeechRequest | undefined

beforeAll(async () => {
  server = await startTestServer({}, (s) => {
    s.registerTTS('pcm-voice', async (req, out) => {
      seen = req
      for (const piece of PIECES) {
        if (!out.push(OutputChunk.audio(piece, 'pcm', RATE, 1))) await out.ready()
      }
      out.push(OutputChunk.usage(req.input.length, 0))
      out.end()
    })
    // An engine that already encodes mp3: its bytes go out untouched.
    s.registerTTS('mp3-voice', (_req, out) => {
      out.push(OutputChunk.audio(FAKE_MP3, 'mp3'))
      out.end()
    })
  })
})
afterAll(() => server.stop())

/** "codec,rate,channels" of an audio file, as ffmpeg itself reads it. */
async function probe(bytes: Uint8Array): Promise<string> {
  const child = Bun.spawn([ffmpegPath()!, '-hide_banner', '-i', 'pipe:0', '-f', 'null', '-'], {
    stdin: new Blob([bytes as Uint8Array<ArrayBuffer>]),
    stderr: 'pipe',
  })
  const log = await new Response(child.stderr).text()
  const match = /Audio: (\w+)[^,]*, (\d+) Hz, (mono|stereo)/.exec(log)
  if (!match) throw new Error(`ffmpeg could not read the audio:\n${log}`)
  return `${match[1]},${match[2]},${match[3] === 'mono' ? 1 : 2}`
}

describe('POST /v1/audio/speech', () => {
  test('wav: a WAV header in front of the provider’s PCM, streamed as produced', async () => {
    const { client, last } = recordingClient(server.url)
    const response = await client.audio.speech.create({ model: 'pcm-voice', voice: 'alloy', input: 'Hello world', response_format: 'wav', speed: 1.5 })
    const bytes = new Uint8Array(await response.arrayBuffer())
    expect(new TextDecoder().decode(bytes.slice(0, 4))).toBe('RIFF')
    expect(new TextDecoder().decode(bytes.slice(8, 12))).toBe('WAVE')
    const view = new DataView(bytes.buffer)
    expect(view.getUint32(24, true)).toBe(RATE)
    expect(view.getUint16(22, true)).toBe(1)
    expect(Buffer.from(bytes.slice(44)).equals(PCM)).toBe(true)
    expect((await last()).contentType).toBe('audio/wav')
    expect(seen).toMatchObject({ model: 'pcm-voice', voice: 'alloy', input: 'Hello world', response_format: 'wav', speed: 1.5 })
  })

  test('pcm: raw samples, unchanged', async () => {
    const { client } = recordingClient(server.url)
    const response = await client.audio.speech.create({ model: 'pcm-voice', voice: 'alloy', input: 'Hi', response_format: 'pcm' })
    expect(Buffer.from(await response.arrayBuffer()).equals(PCM)).toBe(true)
  })

  test('an encoded format the provider already produces passes through', async () => {
    const { client, last } = recordingClient(server.url)
    const response = await client.audio.speech.create({ model: 'mp3-voice', voice: 'alloy', input: 'Hi', response_format: 'mp3' })
    expect(Array.from(new Uint8Array(await response.arrayBuffer()))).toEqual(Array.from(FAKE_MP3))
    expect((await last()).contentType).toBe('audio/mpeg')
  })

  test('mp3 (the default) from PCM goes through ffmpeg and decodes as mp3', async () => {
    const { client, last } = recordingClient(server.url)
    const response = await client.audio.speech.create({ model: 'pcm-voice', voice: 'alloy', input: 'Hello' })
    const bytes = new Uint8Array(await response.arrayBuffer())
    expect((await last()).contentType).toBe('audio/mpeg')
    expect(await probe(bytes)).toBe(`mp3,${RATE},1`)
  })

  test('opus and flac from PCM', async () => {
    const { client } = recordingClient(server.url)
    for (const [format, codec] of [
      ['opus', 'opus'],
      ['flac', 'flac'],
    ] as const) {
      const response = await client.audio.speech.create({ model: 'pcm-voice', voice: 'alloy', input: 'Hello', response_format: format })
      expect((await probe(new Uint8Array(await response.arrayBuffer()))).split(',')[0]).toBe(codec)
    }
  })

  test('stream_format sse: speech.audio.delta events carry the audio, then speech.audio.done with usage', async () => {
    const { last } = recordingClient(server.url)
    const response = await fetch(`${server.url}/v1/audio/speech`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'pcm-voice', voice: 'alloy', input: 'Hello', response_format: 'pcm', stream_format: 'sse' }),
    })
    expect(response.headers.get('content-type')).toContain('text/event-stream')
    const frames = sseFrames(await response.text()) as Array<{ type: string; audio?: string; usage?: unknown }>
    expect(frames.at(-1)).toEqual({ type: 'speech.audio.done', usage: { input_tokens: 5, output_tokens: 0, total_tokens: 5 } })
    const deltas = frames.slice(0, -1)
    expect(deltas.length).toBe(PIECES.length)
    expect(Buffer.concat(deltas.map((f) => Buffer.from(f.audio!, 'base64'))).equals(PCM)).toBe(true)
    for (const frame of frames) assertMatchesSchema(frame.type === 'speech.audio.done' ? 'SpeechAudioDoneEvent' : 'SpeechAudioDeltaEvent', frame)
    await expect(last()).rejects.toThrow('No request')
  })
})
