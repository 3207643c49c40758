import createLlamaAdapter, { resolveLlamaLibrary } from '@cy/adapter-llama'
import { OutputChannel, type CompletionRequest, type LoadedModel, type OutputChunk } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { FIRST_LORA_SEED, SECOND_LORA_SEED, tinyLlamaLora, writeTinyLlamaLora } from '../fixtures/llama/tiny-lora.ts'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { startTestServer } from '../support/test-server.ts'
import { referenceGreedy } from './reference-greedy.ts'

// The adapters folder while the model is loaded, as a training job fills it: a new `<name>.gguf` (written
// beside it, then renamed in) is listed in the model's `loraAdapters` and served at once, one replaced under
// the same name serves the new file from the next request on, and one deleted is gone from both.
let dir: string
let loraDir: string
let modelPath: string
let libDir: string
let loaded: LoadedModel
let server: Server
let client: OpenAI
const sources: Record<'pirate' | 'poet', string> = { pirate: '', poet: '' }
const TOKENS = 16
const PROMPT = 'Once upon a time'

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-lora-live-'))
  // Not made: loading makes it, so that its watch sees the first adapter.
  loraDir = join(dir, 'loras')
  await mkdir(join(dir, 'sources'))
  modelPath = await writeTinyLlama(join(dir, 'tiny.gguf'))
  sources.pirate = await writeTinyLlamaLora(join(dir, 'sources', 'pirate.gguf'), { seed: FIRST_LORA_SEED })
  sources.poet = await writeTinyLlamaLora(join(dir, 'sources', 'poet.gguf'), { seed: SECOND_LORA_SEED })
  libDir = (await resolveLlamaLibrary(undefined)).dir
  loaded = await createLlamaAdapter({ quiet: true }).load({ name: 'tiny', adapter: 'llama', path: modelPath, options: { contextSize: 512, threads: 2, parallel: 2, loraDir } })
  server = await startTestServer({}, (s) => s.registerModel('tiny', loaded.providers, { supports: loaded.supports, metadata: loaded.metadata }))
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none', maxRetries: 0 })
})
afterAll(async () => {
  await server?.stop()
  await loaded?.dispose()
  await rm(dir, { recursive: true, force: true })
})

/** As the training jobs put an adapter in place: a temporary file beside it, renamed over `<name>.gguf`. */
async function install(source: string, name: string): Promise<void> {
  const temporary = join(loraDir, `.${name}.tmp`)
  await copyFile(source, temporary)
  await rename(temporary, join(loraDir, `${name}.gguf`))
}

const listed = () => loaded.metadata!.loraAdapters as string[]

/** Resolves once the model's `loraAdapters` does (or does not) hold `name`: the folder's watch updates it. */
async function untilListed(name: string, present: boolean): Promise<void> {
  const deadline = Date.now() + 10_000
  while (listed().includes(name) !== present) {
    if (Date.now() > deadline) throw new Error(`loraAdapters is still ${JSON.stringify(listed())}`)
    await Bun.sleep(10)
  }
}

const served = async () => ((await (await fetch(`${server.url}/api/v1/models`)).json()) as { models: Array<{ id: string; loraAdapters?: string[] }> }).models.find((model) => model.id === 'tiny')!.loraAdapters
const complete = async (adapter: string, maxTokens = TOKENS) =>
  (await client.completions.create({ model: 'tiny', prompt: PROMPT, temperature: 0, max_tokens: maxTokens, adapter } as OpenAI.CompletionCreateParamsNonStreaming)).choices[0]!.text
const reference = (source: string, maxTokens = TOKENS) => referenceGreedy(libDir, modelPath, PROMPT, maxTokens, { loras: [{ path: source, scale: 1 }] })

describe('LoRA adapters that come and go while the model is loaded', () => {
  test('the adapters folder is made at load, and lists none', async () => {
    expect(existsSync(loraDir)).toBe(true)
    expect(listed()).toEqual([])
    expect(await served()).toEqual([])
  })

  test('an adapter renamed into the folder is listed without a reload, in /api/v1/models too, and serves at once', async () => {
    await install(sources.pirate, 'fresh')
    await untilListed('fresh', true)
    expect(listed()).toEqual(['fresh'])
    expect(await served()).toEqual(['fresh'])
    expect(await complete('fresh')).toBe(reference(sources.pirate))
  })

  test('a replaced adapter serves its new file from the next request on (renamed over, or rewritten in place)', async () => {
    const before = await complete('fresh')
    await install(sources.poet, 'fresh')
    const after = await complete('fresh')
    expect(after).toBe(reference(sources.poet))
    expect(after).not.toBe(before)
    // Rewritten in place, the same inode: its size and times still tell the versions apart.
    const stronger = tinyLlamaLora({ seed: FIRST_LORA_SEED, strength: 6 })
    const strongerPath = join(dir, 'sources', 'stronger.gguf')
    await writeFile(strongerPath, stronger)
    await writeFile(join(loraDir, 'fresh.gguf'), stronger)
    expect(await complete('fresh')).toBe(reference(strongerPath))
    expect(listed()).toEqual(['fresh'])
  })

  test('a request running under the old file finishes with it while the new one serves the next', async () => {
    await install(sources.pirate, 'fresh')
    // Past the engine's credit window (64 chunks): read one chunk, then none, and the sequence waits, holding the old file.
    const long = 120
    const channel = new OutputChannel({ highWaterMark: 1 })
    const request = { model: 'tiny', prompt: PROMPT, temperature: 0, max_tokens: long, adapter: 'fresh' } as unknown as CompletionRequest
    let settled = false
    const running = Promise.resolve(loaded.providers.completion!(request, channel)).finally(() => (settled = true))
    const chunks = channel[Symbol.asyncIterator]()
    const texts: string[] = []
    const take = (chunk: OutputChunk) => chunk.type === 'text-delta' && texts.push(chunk.text)
    take((await chunks.next()).value as OutputChunk)
    await install(sources.poet, 'fresh')
    expect(await complete('fresh')).toBe(reference(sources.poet))
    expect(settled).toBe(false)
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) take(next.value)
    await running
    expect(texts.join('')).toBe(reference(sources.pirate, long))
  })

  test('a deleted adapter leaves the list, and a request naming it is a 400 adapter_not_found', async () => {
    await install(sources.poet, 'second')
    await untilListed('second', true)
    await rm(join(loraDir, 'fresh.gguf'))
    await untilListed('fresh', false)
    expect(listed()).toEqual(['second'])
    expect(await served()).toEqual(['second'])
    const error = await complete('fresh').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    const body = (error as InstanceType<typeof OpenAI.BadRequestError>).error as { code?: string; param?: string }
    expect(body).toMatchObject({ code: 'adapter_not_found', param: 'adapter' })
    expect(await complete('second')).toBe(reference(sources.poet))
  })
})
