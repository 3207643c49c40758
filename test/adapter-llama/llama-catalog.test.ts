import { startApp, type RunningApp } from '@cy/server'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tinyImageDataUri } from '../fixtures/llama/tiny-images.ts'
import { tinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { tinyVisionFixture } from '../fixtures/llama/tiny-vision.ts'
import { FAKE_HUB_COMMIT, FakeHub, useFakeHub } from '../support/fake-hub.ts'

// The catalog end to end on the real llama.cpp: a model not downloaded is refused with seed 002's error,
// downloaded from the fake hub (the network-boundary test double) it serves under its id and its Hugging
// Face id, and a vision entry gets its projector (an image is refused by a text-only model).
const hub = new FakeHub()
let dir = ''
let app: RunningApp
let restoreEnv = () => {}

const catalog = `
models:
  - { id: tiny-chat, hf: org/tiny-chat-GGUF, files: { model: tiny-chat.gguf }, capabilities: [chat], adapter: llama, options: { threads: 1, parallel: 1, contextSize: 512 }, description: tiny, license: mit }
  - id: tiny-vision
    hf: org/tiny-vision-GGUF
    files: { model: tiny-vision.gguf, mmproj: mmproj-tiny-vision.gguf }
    capabilities: [chat]
    adapter: llama
    options: { threads: 1, parallel: 1, contextSize: 512 }
    description: tiny vision
    license: mit
`

const chat = (model: string, content: unknown = 'Hello') =>
  fetch(`${app.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }], temperature: 0, max_tokens: 8 }),
  })

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-llama-catalog-'))
  await mkdir(join(dir, 'models'))
  restoreEnv = useFakeHub(hub, dir)
  const vision = tinyVisionFixture()
  hub.host('org/tiny-chat-GGUF', 'tiny-chat.gguf', { bytes: tinyLlama() })
  hub.host('org/tiny-vision-GGUF', 'tiny-vision.gguf', { bytes: new Uint8Array(await readFile(vision.model)) })
  hub.host('org/tiny-vision-GGUF', 'mmproj-tiny-vision.gguf', { bytes: new Uint8Array(await readFile(vision.mmproj)) })
  await writeFile(join(dir, 'catalog.yaml'), catalog)
  app = await startApp({ adapterPaths: [], quiet: true, port: 0, modelsDir: join(dir, 'models'), responsesDb: ':memory:', catalogPath: join(dir, 'catalog.yaml'), logLevel: 'silent' }, () => {})
}, 60_000)

afterAll(async () => {
  await app?.stop()
  hub.stop()
  restoreEnv()
  await rm(dir, { recursive: true, force: true })
})

describe('catalog models on llama.cpp', () => {
  test('model_not_downloaded before the download; served by its id and by its Hugging Face id after', async () => {
    const refused = await chat('tiny-chat')
    expect(refused.status).toBe(404)
    expect(await refused.json()).toEqual({ error: { message: 'Model tiny-chat not downloaded. Please download it first.', type: 'model_not_found', param: 'model', code: 'model_not_downloaded' } })
    const downloaded = await fetch(`${app.url}/models/builtin/tiny-chat/download`, { method: 'POST' })
    expect(downloaded.status).toBe(200)
    const byId = await chat('tiny-chat')
    expect(byId.status).toBe(200)
    const first = await byId.json()
    expect(first.usage.completion_tokens).toBeGreaterThan(0)
    const byHf = await (await chat('org/tiny-chat-GGUF')).json()
    // Greedy on one model: the same text whichever name asked.
    expect(byHf.choices[0].message.content).toBe(first.choices[0].message.content)
    const model = await (await fetch(`${app.url}/v1/models/tiny-chat`)).json()
    expect(model.cy).toMatchObject({ state: 'ready', adapter: 'llama', file: join(dir, 'hub', 'models--org--tiny-chat-GGUF', 'snapshots', FAKE_HUB_COMMIT, 'tiny-chat.gguf'), aliases: ['org/tiny-chat-GGUF'] })
    expect((await (await fetch(`${app.url}/models/builtin/tiny-chat`)).json()).state).toBe('loaded')
  }, 60_000)

  test('a vision entry is loaded with its projector: it answers an image, the text-only model refuses one', async () => {
    const image = [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: await tinyImageDataUri('split') } }]
    expect((await (await chat('tiny-vision', image)).json()).error.code).toBe('model_not_downloaded')
    const stream = await fetch(`${app.url}/models/builtin/tiny-vision/download?stream=true`, { method: 'POST' })
    expect(await stream.text()).toContain('event: done')
    const answered = await chat('tiny-vision', image)
    expect(answered.status).toBe(200)
    expect((await answered.json()).usage.prompt_tokens).toBeGreaterThan(16)
    expect((await chat('tiny-chat', image)).status).toBe(400)
  }, 60_000)
})
