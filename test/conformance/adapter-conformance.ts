import { isAdapterV1, type AdapterV1, type Capability, type LoadedModel, type ModelConfig } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { toFile } from 'openai'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeSpeech } from '../support/decode-speech.ts'
import { assertMatchesEvent, assertMatchesSchema } from '../support/openapi-validator.ts'
import { WEATHER_TOOL } from '../support/scripted-models.ts'
import { recordingClient, sseFrames } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'

/** The cases every adapter runs; one that cannot apply to an adapter is declared so, with its reason. */
export type ConformanceCase =
  | 'manifest'
  | 'claims'
  | 'missing-file'
  | 'corrupt-file'
  | 'chat'
  | 'chat-stream'
  | 'max-tokens'
  | 'cancel'
  | 'health-while-working'
  | 'completion'
  | 'embedding'
  | 'asr'
  | 'asr-stream'
  | 'speech'
  | 'speech-stream'
  | 'image'
  | 'image-stream'
  | 'image-edit'
  | 'dispose'
  | 'tool-bridge'
  | 'stop'
  | 'json-mode'
  | 'context-overflow'
  | 'token-input'
  | 'engine-error-recovery'

export interface ConformanceTarget {
  /** Shown in test names. */
  name: string
  createAdapter: () => AdapterV1 | Promise<AdapterV1>
  /** Writes (or finds) a small model file the adapter loads, in `dir`. */
  modelFile: (dir: string) => Promise<string>
  /** The extension a corrupt model file gets, so that only its content is wrong. */
  extension: string
  /** Options for loading (keep generation long enough to cancel mid-way). */
  options?: Record<string, unknown>
  /** What the adapter serves (its manifest's capabilities): cases for other capabilities do not apply. */
  capabilities: Capability[]
  /** A prompt whose greedy answer has several tokens. */
  prompt?: string
  /** For speech-to-text: audio (a WAV file) long enough to take the engine a moment. */
  audio?: () => Uint8Array
  /** For text-to-speech: a voice of the model, a short input, and request fields (a long input) that keep the model busy a while. */
  speech?: { voice: string; input: string; long: Record<string, unknown> }
  /** For image models: fields that make a small, quick image (size, steps), and ones that keep the model busy a while. */
  image?: { quick: Record<string, unknown>; long: Record<string, unknown> }
  /** Request fields that make the model answer exactly `text` (llama.cpp: a GBNF grammar), for the tool bridge. */
  forceOutput?: (text: string) => Record<string, unknown>
  /** Token ids of the model's vocabulary, for token-array prompts and inputs. */
  tokenIds?: number[]
  /**
   * Makes the engine's next step fail at its native boundary (a test double there), for the recovery case.
   * Absent where the engine runs out of the test's reach; the adapter's own tests cover it then.
   */
  failNextStep?: (loaded: LoadedModel) => void | Promise<void>
  /**
   * Cases that do not apply to this adapter (a feature it does not have), each with its reason: like cases
   * for a capability it lacks, they are not registered. Never a way to hide a failing case.
   */
  notApplicable?: Partial<Record<ConformanceCase, string>>
}

/** The capabilities whose requests carry text a model tokenizes. */
const TEXT_CAPABILITIES: Capability[] = ['chat', 'completion', 'embedding']

/**
 * The shared adapter conformance suite: what every adapter must do, checked through the adapter
 * contract and through a real server with the official `openai` SDK.
 */
export function runAdapterConformance(target: ConformanceTarget): void {
  const caseTest = (name: ConformanceCase, title: string, body: () => Promise<void> | void, needs?: Capability | Capability[], timeout = 60_000) => {
    // A case for capabilities the adapter does not have does not apply: it is not registered at all.
    if (needs && ![needs].flat().some((capability) => target.capabilities.includes(capability))) return
    if (target.notApplicable?.[name]) return
    test(title, body, timeout)
  }

  describe(`adapter conformance: ${target.name}`, () => {
    let adapter: AdapterV1
    let dir: string
    let modelPath: string
    let loaded: LoadedModel
    let server: Server
    const model = 'conformance-model'
    const prompt = target.prompt ?? 'one two three four five six seven eight'
    const has = (capability: Capability) => loaded.providers[capability] !== undefined
    const audioFile = () => {
      if (!target.audio) throw new Error(`${target.name}: an asr adapter's conformance target needs 'audio'`)
      return new File([target.audio() as Uint8Array<ArrayBuffer>], 'clip.wav', { type: 'audio/wav' })
    }
    const speechFields = () => {
      if (!target.speech) throw new Error(`${target.name}: a tts adapter's conformance target needs 'speech'`)
      return target.speech
    }
    const imageFields = () => {
      if (!target.image) throw new Error(`${target.name}: an image adapter's conformance target needs 'image'`)
      return target.image
    }
    /** A request that keeps the model busy for a while, streamed: chat when the adapter chats, an image when it draws, speech when it speaks, else a transcription. */
    const longRequest = (signal?: AbortSignal): Promise<Response> => {
      if (target.capabilities.includes('tts')) {
        const { voice, long } = speechFields()
        return fetch(`${server.url}/v1/audio/speech`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          // WAV is written in-process: its first bytes go out with the first audio (no encoder buffering them).
          body: JSON.stringify({ model, voice, response_format: 'wav', ...long }),
          ...(signal ? { signal } : {}),
        })
      }
      if (target.capabilities.includes('image')) {
        return fetch(`${server.url}/v1/images/generations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model, prompt, stream: true, partial_images: 3, ...imageFields().long }),
          ...(signal ? { signal } : {}),
        })
      }
      if (target.capabilities.includes('chat')) {
        return fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model, stream: true, temperature: 0, messages: [{ role: 'user', content: prompt }] }),
          ...(signal ? { signal } : {}),
        })
      }
      const form = new FormData()
      form.append('model', model)
      form.append('file', audioFile())
      form.append('stream', 'true')
      return fetch(`${server.url}/v1/audio/transcriptions`, { method: 'POST', body: form, ...(signal ? { signal } : {}) })
    }

    beforeAll(async () => {
      adapter = await target.createAdapter()
      dir = await mkdtemp(join(tmpdir(), `cy-conformance-${target.name}-`))
      modelPath = await target.modelFile(dir)
      const config: ModelConfig = { name: model, adapter: adapter.manifest.name, path: modelPath }
      if (target.options) config.options = target.options
      loaded = await adapter.load(config)
      // As the server app registers it: with the adapter's own tool mode and limits.
      server = await startTestServer({}, (s) =>
        s.registerModel(model, loaded.providers, {
          ...(loaded.toolCalls ? { toolCalls: loaded.toolCalls } : {}),
          ...(loaded.limits ? { limits: loaded.limits } : {}),
          ...(loaded.supports ? { supports: loaded.supports } : {}),
        }),
      )
    })
    afterAll(async () => {
      await server?.stop()
      await loaded?.dispose()
      await rm(dir, { recursive: true, force: true })
    })

    caseTest('manifest', 'states contract v1 with a manifest: name, capabilities, engine version', () => {
      expect(isAdapterV1(adapter)).toBe(true)
      expect(adapter.manifest.name).toMatch(/^[a-z0-9-]+$/)
      expect(adapter.manifest.capabilities.length).toBeGreaterThan(0)
      expect([...adapter.manifest.capabilities].sort()).toEqual([...target.capabilities].sort())
      expect(adapter.manifest.engine.name.length).toBeGreaterThan(0)
      expect(adapter.manifest.engine.version.length).toBeGreaterThan(0)
      for (const capability of Object.keys(loaded.providers)) expect(adapter.manifest.capabilities).toContain(capability as Capability)
    })

    caseTest('claims', 'claims its model file and no other', async () => {
      const head = new Uint8Array(await Bun.file(modelPath).slice(0, 64).arrayBuffer())
      expect((await adapter.canLoad(modelPath, head)).claim).toBe(true)
      const stranger = join(dir, 'stranger.txt')
      await writeFile(stranger, 'just some text, not a model')
      expect((await adapter.canLoad(stranger, new TextEncoder().encode('just some text'))).claim).toBe(false)
    })

    caseTest('missing-file', 'a missing model file is a clear error naming the path', async () => {
      const missing = join(dir, `missing${target.extension}`)
      const error = await adapter.load({ name: 'missing', adapter: adapter.manifest.name, path: missing }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(Error)
      expect((error as Error).message).toContain(missing)
    })

    caseTest('corrupt-file', 'a corrupt model file is a clear error, not a crash', async () => {
      const corrupt = join(dir, `corrupt${target.extension}`)
      await writeFile(corrupt, crypto.getRandomValues(new Uint8Array(4096)))
      const error = await adapter.load({ name: 'corrupt', adapter: adapter.manifest.name, path: corrupt }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(Error)
      expect((error as Error).message.length).toBeGreaterThan(0)
    })

    caseTest('chat', 'chat: a non-empty greedy answer, the same twice, matching OpenAI’s schema', async () => {
      expect(has('chat')).toBe(true)
      const { client, last } = recordingClient(server.url)
      const ask = () => client.chat.completions.create({ model, temperature: 0, messages: [{ role: 'user', content: prompt }] })
      const first = await ask()
      assertMatchesSchema('CreateChatCompletionResponse', JSON.parse((await last()).text))
      expect(first.choices[0]!.message.content!.length).toBeGreaterThan(0)
      expect((await ask()).choices[0]!.message.content).toBe(first.choices[0]!.message.content)
    }, 'chat')

    caseTest('chat-stream', 'chat: streamed deltas concatenate to the non-streamed answer', async () => {
      const { client, last } = recordingClient(server.url)
      const whole = await client.chat.completions.create({ model, temperature: 0, messages: [{ role: 'user', content: prompt }] })
      const stream = await client.chat.completions.create({ model, temperature: 0, stream: true, messages: [{ role: 'user', content: prompt }] })
      let text = ''
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
      expect(text).toBe(whole.choices[0]!.message.content!)
      for (const frame of sseFrames((await last()).text)) assertMatchesSchema('CreateChatCompletionStreamResponse', frame)
    }, 'chat')

    caseTest('max-tokens', 'chat: max_tokens 1 stops early with finish_reason length', async () => {
      const { client } = recordingClient(server.url)
      const result = await client.chat.completions.create({ model, temperature: 0, max_tokens: 1, messages: [{ role: 'user', content: prompt }] })
      expect(result.choices[0]!.finish_reason).toBe('length')
      if (result.usage) expect(result.usage.completion_tokens).toBe(1)
    }, 'chat')

    caseTest('cancel', 'a client that leaves mid-stream frees its slot, and the model serves the next request', async () => {
      const controller = new AbortController()
      const response = await longRequest(controller.signal)
      const reader = response.body!.getReader()
      await reader.read()
      controller.abort()
      await reader.cancel().catch(() => {})
      let active = -1
      for (let i = 0; i < 200 && active !== 0; i++) {
        active = ((await (await fetch(`${server.url}/health`)).json()) as { requests: { active: number } }).requests.active
        if (active !== 0) await Bun.sleep(10)
      }
      expect(active).toBe(0)
      const next = await longRequest()
      expect(next.status).toBe(200)
      expect((await next.text()).length).toBeGreaterThan(0)
    })

    caseTest('health-while-working', '/health answers while the model works', async () => {
      const response = await longRequest()
      const reader = response.body!.getReader()
      // The first bytes of the stream: the model is at work, with most of its answer still to come.
      expect((await reader.read()).done).toBe(false)
      const health = await fetch(`${server.url}/health`)
      expect(health.status).toBe(200)
      expect(((await health.json()) as { requests: { active: number } }).requests.active).toBeGreaterThan(0)
      // Health answered while this request was still counted as running; now let it finish.
      while (!(await reader.read()).done) {}
    })

    caseTest(
      'asr',
      'speech-to-text: a transcript, the same twice, in every response format, matching OpenAI’s schema',
      async () => {
        const { client, last } = recordingClient(server.url)
        const first = await client.audio.transcriptions.create({ model, file: audioFile(), language: 'en' })
        assertMatchesSchema('CreateTranscriptionResponseJson', JSON.parse((await last()).text))
        expect((await client.audio.transcriptions.create({ model, file: audioFile(), language: 'en' })).text).toBe(first.text)
        const verbose = await client.audio.transcriptions.create({ model, file: audioFile(), language: 'en', response_format: 'verbose_json' })
        assertMatchesSchema('CreateTranscriptionResponseVerboseJson', JSON.parse((await last()).text))
        expect(verbose.text).toBe(first.text)
        expect(verbose.duration).toBeGreaterThan(0)
        const text = String(await client.audio.transcriptions.create({ model, file: audioFile(), language: 'en', response_format: 'text' }))
        expect(text.trim()).toBe(first.text.trim())
        const srt = String(await client.audio.transcriptions.create({ model, file: audioFile(), language: 'en', response_format: 'srt' }))
        expect(srt).toMatch(/^1\n\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d\n/)
      },
      'asr',
      120_000,
    )

    caseTest(
      'asr-stream',
      'speech-to-text: streamed deltas concatenate to the transcript',
      async () => {
        const { client } = recordingClient(server.url)
        const whole = await client.audio.transcriptions.create({ model, file: audioFile(), language: 'en' })
        const stream = await client.audio.transcriptions.create({ model, file: audioFile(), language: 'en', stream: true })
        let text = ''
        for await (const event of stream) if (event.type === 'transcript.text.delta') text += event.delta
        expect(text).toBe(whole.text)
      },
      'asr',
      120_000,
    )

    caseTest(
      'speech',
      'text-to-speech: wav and mp3 through the SDK decode with ffmpeg to the same non-empty speech; an unknown voice is a 400 on voice',
      async () => {
        expect(has('tts')).toBe(true)
        const { client } = recordingClient(server.url)
        const { voice, input } = speechFields()
        const speak = async (format: 'wav' | 'mp3') => decodeSpeech(new Uint8Array(await (await client.audio.speech.create({ model, voice, input, response_format: format })).arrayBuffer()), format)
        const wav = await speak('wav')
        expect(wav.seconds).toBeGreaterThan(0)
        expect(wav.sampleRate).toBeGreaterThan(0)
        const mp3 = await speak('mp3')
        // mp3's encoder delay and last-frame padding: at most 1152 + 529 samples, under 0.15 s at 16 kHz and up.
        expect(Math.abs(mp3.seconds - wav.seconds), `mp3 ${mp3.seconds} s, wav ${wav.seconds} s`).toBeLessThan(0.15)
        const error = await failure(client.audio.speech.create({ model, voice: 'no-such-voice-anywhere', input }))
        expect(error).toMatchObject({ status: 400, param: 'voice' })
      },
      'tts',
      120_000,
    )

    caseTest(
      'speech-stream',
      'text-to-speech: stream_format sse sends speech.audio.delta events, then one speech.audio.done, valid against the spec, with the audio of the plain answer',
      async () => {
        const { client, last } = recordingClient(server.url)
        const { voice, input } = speechFields()
        const plain = new Uint8Array(await (await client.audio.speech.create({ model, voice, input, response_format: 'pcm' })).arrayBuffer())
        const streamed = await client.audio.speech.create({ model, voice, input, response_format: 'pcm', stream_format: 'sse' })
        expect(streamed.headers.get('content-type')).toContain('text/event-stream')
        await streamed.arrayBuffer()
        const frames = sseFrames((await last()).text) as Array<{ type: string; audio?: string }>
        for (const frame of frames) assertMatchesEvent('CreateSpeechResponseStreamEvent', frame)
        expect(frames.at(-1)!.type).toBe('speech.audio.done')
        const deltas = frames.slice(0, -1)
        expect(deltas.length).toBeGreaterThan(0)
        expect(deltas.every((frame) => frame.type === 'speech.audio.delta')).toBe(true)
        // The same speech either way: as many bytes of 16-bit PCM (a random-noise voice may differ in the samples).
        const audio = Buffer.concat(deltas.map((frame) => Buffer.from(frame.audio!, 'base64')))
        expect(audio.length).toBe(plain.length)
      },
      'tts',
      120_000,
    )

    caseTest(
      'image',
      'images: b64_json and url answers matching OpenAI’s schema; the same seed twice gives the same image, another seed another',
      async () => {
        expect(has('image')).toBe(true)
        const { client, last } = recordingClient(server.url)
        const draw = (seed: number, extra: object = {}) => client.images.generate({ model, prompt, ...imageFields().quick, ...({ seed } as object), ...extra })
        const first = await draw(7)
        assertMatchesSchema('ImagesResponse', JSON.parse((await last()).text))
        const bytes = first.data![0]!.b64_json!
        expect(Buffer.from(bytes, 'base64').subarray(1, 4).toString()).toBe('PNG')
        expect((await draw(7)).data![0]!.b64_json).toBe(bytes)
        expect((await draw(8)).data![0]!.b64_json).not.toBe(bytes)
        const linked = await draw(7, { response_format: 'url' })
        assertMatchesSchema('ImagesResponse', JSON.parse((await last()).text))
        const fetched = new Uint8Array(await (await fetch(linked.data![0]!.url!)).arrayBuffer())
        expect(Buffer.from(fetched).toString('base64')).toBe(bytes)
      },
      'image',
      180_000,
    )

    caseTest(
      'image-stream',
      'images: a stream sends partial images, then the completed image, every event valid against the spec',
      async () => {
        const { client, last } = recordingClient(server.url)
        const stream = await client.images.generate({ model, prompt, stream: true, partial_images: 2, ...imageFields().long })
        const types: string[] = []
        for await (const event of stream) types.push(event.type)
        expect(types.at(-1)).toBe('image_generation.completed')
        expect(types.filter((type) => type === 'image_generation.partial_image').length).toBeGreaterThan(0)
        for (const frame of sseFrames((await last()).text)) {
          const data = frame as { type: string }
          assertMatchesSchema(data.type.endsWith('partial_image') ? 'ImageGenPartialImageEvent' : 'ImageGenCompletedEvent', data)
        }
      },
      'image',
      180_000,
    )

    caseTest(
      'image-edit',
      'images: an edit of the model’s own image answers with an image, matching OpenAI’s schema',
      async () => {
        const { client, last } = recordingClient(server.url)
        const made = await client.images.generate({ model, prompt, ...imageFields().quick, ...({ seed: 3 } as object) })
        const source = Buffer.from(made.data![0]!.b64_json!, 'base64')
        const edited = await client.images.edit({ model, prompt: `${prompt}, edited`, image: await toFile(source, 'source.png', { type: 'image/png' }), ...imageFields().quick })
        assertMatchesSchema('ImagesResponse', JSON.parse((await last()).text))
        expect(edited.data![0]!.b64_json!.length).toBeGreaterThan(0)
        expect(edited.data![0]!.b64_json).not.toBe(made.data![0]!.b64_json)
      },
      'image',
      180_000,
    )

    caseTest('completion', 'legacy completions: text, and the stream concatenates to it', async () => {
      expect(has('completion')).toBe(true)
      const { client } = recordingClient(server.url)
      const whole = await client.completions.create({ model, temperature: 0, prompt })
      expect(whole.choices[0]!.text.length).toBeGreaterThan(0)
      const stream = await client.completions.create({ model, temperature: 0, prompt, stream: true })
      let text = ''
      for await (const chunk of stream) text += chunk.choices[0]?.text ?? ''
      expect(text).toBe(whole.choices[0]!.text)
    }, 'completion')

    caseTest('embedding', 'embeddings: one finite, unit-length vector per input, all the same width, deterministic', async () => {
      expect(has('embedding')).toBe(true)
      const { client, last } = recordingClient(server.url)
      const inputs = ['hello world', 'a different sentence']
      const result = await client.embeddings.create({ model, input: inputs, encoding_format: 'float' })
      assertMatchesSchema('CreateEmbeddingResponse', JSON.parse((await last()).text))
      expect(result.data.length).toBe(2)
      const width = result.data[0]!.embedding.length
      expect(width).toBeGreaterThan(0)
      for (const item of result.data) {
        expect(item.embedding.length).toBe(width)
        expect(item.embedding.every(Number.isFinite)).toBe(true)
        expect(Math.hypot(...item.embedding)).toBeCloseTo(1, 3)
      }
      const again = await client.embeddings.create({ model, input: inputs, encoding_format: 'float' })
      expect(again.data[0]!.embedding).toEqual(result.data[0]!.embedding)
    }, 'embedding')

    /** The error a request fails with, through the SDK. */
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: unknown) => error as { status?: number; code?: string; param?: string },
      )

    caseTest('tool-bridge', 'tools: the model’s tool-call markup comes back as tool_calls through the adapter’s tool mode', async () => {
      if (!target.forceOutput) throw new Error(`${target.name}: the tool-bridge case needs 'forceOutput'`)
      const markup = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
      const { client, last } = recordingClient(server.url)
      const result = await client.chat.completions.create({
        model,
        temperature: 0,
        max_tokens: 200,
        messages: [{ role: 'user', content: 'weather in Paris?' }],
        tools: [WEATHER_TOOL.chat],
        ...target.forceOutput(markup),
      } as never)
      assertMatchesSchema('CreateChatCompletionResponse', JSON.parse((await last()).text))
      const choice = (result as { choices: Array<{ finish_reason: string; message: { tool_calls?: Array<{ function: { name: string; arguments: string } }> } }> }).choices[0]!
      expect(choice.finish_reason).toBe('tool_calls')
      expect(choice.message.tool_calls?.[0]?.function.name).toBe('get_weather')
      expect(JSON.parse(choice.message.tool_calls![0]!.function.arguments)).toEqual({ city: 'Paris' })
    }, 'chat')

    caseTest('stop', 'chat: a stop string ends the answer before it, and is never sent', async () => {
      const { client } = recordingClient(server.url)
      const ask = (stop?: string) => client.chat.completions.create({ model, temperature: 0, max_tokens: 24, messages: [{ role: 'user', content: prompt }], ...(stop ? { stop } : {}) })
      const full = (await ask()).choices[0]!.message.content!
      expect(full.length).toBeGreaterThan(6)
      const stop = full.slice(3, 6)
      const stopped = await ask(stop)
      expect(stopped.choices[0]!.message.content).toBe(full.slice(0, full.indexOf(stop)))
      expect(stopped.choices[0]!.finish_reason).toBe('stop')
    }, 'chat')

    caseTest('json-mode', 'chat: response_format json_schema gives JSON the schema accepts', async () => {
      const { client } = recordingClient(server.url)
      const schema = { type: 'object', properties: { answer: { enum: ['yes', 'no'] } }, required: ['answer'], additionalProperties: false }
      const result = await client.chat.completions.create({
        model,
        temperature: 0,
        max_tokens: 300,
        response_format: { type: 'json_schema', json_schema: { name: 'reply', schema, strict: true } },
        messages: [{ role: 'user', content: 'yes or no, in JSON' }],
      })
      expect(result.choices[0]!.finish_reason).toBe('stop')
      expect(['yes', 'no']).toContain(JSON.parse(result.choices[0]!.message.content!).answer)
    }, 'chat')

    caseTest('context-overflow', 'a prompt longer than the context is a 400 context_length_exceeded naming the field', async () => {
      const { client } = recordingClient(server.url)
      const huge = 'word '.repeat(200_000)
      if (target.capabilities.includes('chat')) {
        const error = await failure(client.chat.completions.create({ model, messages: [{ role: 'user', content: huge }] }))
        expect(error).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'messages' })
      }
      if (target.capabilities.includes('completion')) {
        const error = await failure(client.completions.create({ model, prompt: huge }))
        expect(error).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'prompt' })
      }
      if (target.capabilities.includes('embedding')) {
        const error = await failure(client.embeddings.create({ model, input: huge }))
        expect(error).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'input' })
      }
    }, TEXT_CAPABILITIES)

    caseTest('token-input', 'token ids: a prompt or input of ids runs them; ids outside the vocabulary are a 400 naming the field', async () => {
      if (!target.tokenIds) throw new Error(`${target.name}: the token-input case needs 'tokenIds'`)
      const { client } = recordingClient(server.url)
      if (target.capabilities.includes('completion')) {
        const result = await client.completions.create({ model, temperature: 0, max_tokens: 4, prompt: target.tokenIds })
        expect(result.choices[0]!.text.length).toBeGreaterThan(0)
        expect(result.usage?.prompt_tokens).toBe(target.tokenIds.length)
        expect(await failure(client.completions.create({ model, max_tokens: 4, prompt: [2 ** 31] }))).toMatchObject({ status: 400, param: 'prompt' })
      }
      if (target.capabilities.includes('embedding')) {
        const result = await client.embeddings.create({ model, input: [target.tokenIds], encoding_format: 'float' })
        expect(result.data[0]!.embedding.length).toBeGreaterThan(0)
        expect(await failure(client.embeddings.create({ model, input: [-5] }))).toMatchObject({ status: 400, param: 'input' })
      }
    }, ['completion', 'embedding'])

    caseTest('engine-error-recovery', 'an engine step that fails fails its request, and the model serves the next one', async () => {
      if (!target.failNextStep) throw new Error(`${target.name}: the recovery case needs 'failNextStep'`)
      const { client } = recordingClient(server.url)
      await target.failNextStep(loaded)
      const error = await failure(client.chat.completions.create({ model, temperature: 0, max_tokens: 8, messages: [{ role: 'user', content: prompt }] }))
      expect(error?.status).toBeGreaterThanOrEqual(500)
      const next = await client.chat.completions.create({ model, temperature: 0, max_tokens: 8, messages: [{ role: 'user', content: prompt }] })
      expect(next.choices[0]!.message.content!.length).toBeGreaterThan(0)
    })

    caseTest('dispose', 'dispose frees the model; a second load of the same file works', async () => {
      const config: ModelConfig = { name: 'second', adapter: adapter.manifest.name, path: modelPath }
      if (target.options) config.options = target.options
      const second = await adapter.load(config)
      expect(Object.keys(second.providers).length).toBeGreaterThan(0)
      await second.dispose()
    })
  })
}
