import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { encodeImage } from '@cy/image'
import { toFile } from 'openai'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tinySd15Fixture } from '../fixtures/sd/sd-fixtures.ts'
import { assertMatchesSchema } from '../support/openapi-validator.ts'
import { recordingClient, sseFrames } from '../support/recording-client.ts'
import { probeHealth } from '../support/health-probe.ts'
import { readUntil, startServerProcess, type ServerProcess } from '../support/server-process.ts'

// `bun run apps/server` as a user starts it, on the real stable-diffusion.cpp (its engine process, one thread):
// the tiny SD 1.5 checkpoint sits in the models folder, where the sdxl adapter claims it, and the config file's
// `adapters.sdxl` gives its TAESD and LoRA folder, relative to the config file (which is not in the working folder).
const KEY = 'sd-secret'
const MODEL = 'tiny-sd'
const QUICK = { size: '64x64', steps: 2 } as const
/** Keeps the sampler busy for several seconds: previews come after steps 10, 20 and 30. */
const LONG = { size: '64x64', steps: 40, stream: true, partial_images: 3 } as const

let workdir: string
let url: string
let server: ServerProcess

const auth = { authorization: `Bearer ${KEY}` }
const post = (path: string, body?: object, signal?: AbortSignal) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}), ...(signal ? { signal } : {}) })
const generate = (fields: object, signal?: AbortSignal) => post('/v1/images/generations', { model: MODEL, prompt: 'a red cat', ...fields }, signal)
const health = async () => (await (await fetch(`${url}/health`)).json()) as { requests: { active: number } }

const PARTIAL = 'image_generation.partial_image'

/** How long a whole LONG generation took, from its request to its completed event (the health test measures one). */
let fullLongMs: number | undefined
/** One whole LONG generation, timed. */
async function longGeneration(): Promise<number> {
  const started = performance.now()
  const response = await generate(LONG)
  expect(await readUntil(response.body!.getReader(), () => false)).toContain('image_generation.completed')
  return performance.now() - started
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

beforeAll(async () => {
  const fixture = tinySd15Fixture()
  workdir = await mkdtemp(join(tmpdir(), 'cy-sdxl-server-'))
  await mkdir(join(workdir, 'models'))
  await mkdir(join(workdir, 'sd'))
  await mkdir(join(workdir, 'config'))
  await symlink(fixture.model, join(workdir, 'models', `${MODEL}.gguf`))
  await symlink(fixture.taesd!, join(workdir, 'sd', 'taesd.gguf'))
  await symlink(fixture.loraDir!, join(workdir, 'sd', 'loras'))
  await writeFile(
    join(workdir, 'config', 'cy.yaml'),
    ['server:', '  modelsDir: ../models', 'adapters:', '  sdxl:', '    taesd: ../sd/taesd.gguf', '    lorasDir: ../sd/loras', '    threads: 1', '    maxSize: 512'].join('\n'),
  )
  server = await startServerProcess(workdir, ['--config', 'config/cy.yaml', '--api-key', KEY, '--responses-db', ':memory:'])
  url = server.url
  await server.logged(`model '${MODEL}' ready`, `model '${MODEL}' was not loaded`)
}, 120_000)

afterAll(async () => {
  await server?.stop()
  await rm(workdir, { recursive: true, force: true })
})

describe('the server app with a discovered stable-diffusion checkpoint, through the openai SDK', () => {
  test('the checkpoint in the models folder is the sdxl adapter’s, not llama’s; its options came from the config file', async () => {
    const response = await fetch(`${url}/v1/models/${MODEL}`, { headers: auth })
    const model = (await response.json()) as { owned_by: string; cy: { state: string; adapter: string; capabilities: string[] } }
    expect(model).toMatchObject({ owned_by: 'sdxl', cy: { state: 'ready', adapter: 'sdxl', capabilities: ['image'] } })
    // The TAESD (or the load would have failed) and the LoRA folder resolved against the config file's folder: its LoRA is found.
    const { client } = recordingClient(url, KEY)
    const lora = await client.images.generate({ model: MODEL, prompt: 'a red cat', ...QUICK, ...({ loras: [{ name: tinySd15Fixture().loraName!, weight: 1 }] } as object) })
    expect(lora.data![0]!.b64_json!.length).toBeGreaterThan(0)
  }, 60_000)

  test('images.generate: b64_json and url, and a stream of 2 partial images then the image, all valid against the spec', async () => {
    const { client, last } = recordingClient(url, KEY)
    const b64 = await client.images.generate({ model: MODEL, prompt: 'a red cat', response_format: 'b64_json', ...QUICK, ...({ seed: 5 } as object) })
    const body = JSON.parse((await last()).text)
    assertMatchesSchema('ImagesResponse', body)
    // `size` is echoed only for OpenAI's named sizes (the only ones its schema allows).
    expect([body.output_format, body.background, body.size]).toEqual(['png', 'opaque', undefined])
    expect(body.usage).toMatchObject({ input_tokens: 3, output_tokens: 16 })
    const png = Buffer.from(b64.data![0]!.b64_json!, 'base64')
    expect(png.subarray(1, 4).toString()).toBe('PNG')

    const linked = await client.images.generate({ model: MODEL, prompt: 'a red cat', response_format: 'url', ...QUICK, ...({ seed: 5 } as object) })
    assertMatchesSchema('ImagesResponse', JSON.parse((await last()).text))
    // The link is public (a browser follows it without the key) and holds the same image.
    const fetched = Buffer.from(await (await fetch(linked.data![0]!.url!)).arrayBuffer())
    expect(fetched.equals(png)).toBe(true)

    const stream = await client.images.generate({ model: MODEL, prompt: 'a red cat', stream: true, partial_images: 2, size: '64x64', ...({ steps: 6 } as object) })
    const types: string[] = []
    for await (const event of stream) types.push(event.type)
    expect(types).toEqual([PARTIAL, PARTIAL, 'image_generation.completed'])
    const frames = sseFrames((await last()).text) as Array<{ type: string; partial_image_index?: number }>
    for (const frame of frames) assertMatchesSchema(frame.type === PARTIAL ? 'ImageGenPartialImageEvent' : 'ImageGenCompletedEvent', frame)
    expect(frames.map((frame) => frame.partial_image_index)).toEqual([0, 1, undefined])
  }, 60_000)

  test('images.edit: multipart with an OpenAI alpha mask, JSON and stream valid against the spec', async () => {
    const { client, last } = recordingClient(url, KEY)
    const made = await client.images.generate({ model: MODEL, prompt: 'a red cat', ...QUICK, ...({ seed: 3 } as object) })
    const source = Buffer.from(made.data![0]!.b64_json!, 'base64')
    // OpenAI's mask: transparent (alpha 0) where the image is to be edited, here the left half.
    const rgba = new Uint8Array(64 * 64 * 4).fill(255)
    for (let i = 0; i < 64 * 64; i++) if (i % 64 < 32) rgba[i * 4 + 3] = 0
    const mask = (await encodeImage({ width: 64, height: 64, channels: 4, data: rgba }, 'png')).data
    const files = async () => ({ image: await toFile(source, 'cat.png', { type: 'image/png' }), mask: await toFile(mask, 'mask.png', { type: 'image/png' }) })
    const edited = await client.images.edit({ model: MODEL, prompt: 'a blue cat', ...(await files()), ...QUICK, ...({ seed: 4 } as object) })
    assertMatchesSchema('ImagesResponse', JSON.parse((await last()).text))
    expect(edited.data![0]!.b64_json).not.toBe(made.data![0]!.b64_json)
    // The same edit as a link: the same pixels behind it (PNG bytes, so the same bytes).
    const linked = await client.images.edit({ model: MODEL, prompt: 'a blue cat', ...(await files()), response_format: 'url', ...QUICK, ...({ seed: 4 } as object) })
    assertMatchesSchema('ImagesResponse', JSON.parse((await last()).text))
    const fetched = Buffer.from(await (await fetch(linked.data![0]!.url!)).arrayBuffer()).toString('base64')
    expect(fetched).toBe(edited.data![0]!.b64_json!)

    const stream = await client.images.edit({ model: MODEL, prompt: 'a blue cat', ...(await files()), stream: true, partial_images: 1, size: '64x64', ...({ steps: 4 } as object) })
    const types: string[] = []
    for await (const event of stream) types.push(event.type)
    expect(types).toEqual(['image_edit.partial_image', 'image_edit.completed'])
    for (const frame of sseFrames((await last()).text) as Array<{ type: string }>) {
      assertMatchesSchema(frame.type === 'image_edit.partial_image' ? 'ImageEditPartialImageEvent' : 'ImageEditCompletedEvent', frame)
    }
  }, 60_000)

  test('/health answers within 50 ms, every time, while an image is generating', async () => {
    const started = performance.now()
    const response = await generate(LONG)
    const reader = response.body!.getReader()
    // The first preview: the sampler is at step 10 of 40.
    await readUntil(reader, (text) => text.includes(PARTIAL))
    const { times, active } = await probeHealth(url)
    const rest = await readUntil(reader, (text) => text.includes('image_generation.completed'))
    fullLongMs = performance.now() - started
    // Every poll happened while the image was still being made.
    expect(active).toBe(1)
    expect(rest).toContain('image_generation.completed')
    const max = Math.max(...times)
    expect(max, `/health while generating: median ${median(times).toFixed(1)} ms, max ${max.toFixed(1)} ms (${times.map((t) => t.toFixed(1)).join(', ')})`).toBeLessThan(50)
  }, 120_000)

  test('a client that leaves mid-generation frees the model within a step: the next request runs at once', async () => {
    const full = fullLongMs ?? (await longGeneration())
    const quickStarted = performance.now()
    expect((await generate(QUICK)).status).toBe(200)
    const quick = performance.now() - quickStarted

    const controller = new AbortController()
    const response = await generate(LONG, controller.signal)
    const reader = response.body!.getReader()
    await readUntil(reader, (text) => text.includes(PARTIAL))
    const left = performance.now()
    controller.abort()
    await reader.cancel().catch(() => {})
    while ((await health()).requests.active !== 0) await Bun.sleep(5)
    const freed = performance.now() - left
    const next = await generate(QUICK)
    expect(next.status).toBe(200)
    await next.arrayBuffer()
    const followUp = performance.now() - left
    // 30 of 40 steps were still to come when the client left (~3/4 of a full run): the follow-up must not wait for
    // them. It takes its own time (a quick image) plus the step in flight when the client left (margin: 10 steps,
    // for a shared machine). /health counts HTTP requests, so its drop shows the route let go; the follow-up's time
    // shows the engine did.
    const step = full / 40
    const message = `full 40-step run ${full.toFixed(0)} ms (${step.toFixed(0)} ms a step), quick ${quick.toFixed(0)} ms; after leaving: active 0 in ${freed.toFixed(0)} ms, follow-up done in ${followUp.toFixed(0)} ms`
    expect(freed, message).toBeLessThan(full / 4)
    expect(followUp, message).toBeLessThan(quick + full / 4)
  }, 120_000)

  test('unloading mid-generation ends the request with an error event, the server answers on, and the model loads and serves again', async () => {
    const response = await generate(LONG)
    const reader = response.body!.getReader()
    await readUntil(reader, (text) => text.includes(PARTIAL))
    const unload = await post(`/v1/models/${MODEL}/unload`)
    expect(unload.status).toBe(200)
    const rest = await readUntil(reader, () => false)
    const error = sseFrames(rest).at(-1) as { error?: { message: string } }
    expect(rest).toContain('event: error')
    assertMatchesSchema('ErrorResponse', error)
    expect(error.error?.message).toContain('unloaded')
    expect(rest).not.toContain('image_generation.completed')
    expect(server.running()).toBe(true)
    expect((await fetch(`${url}/health`)).status).toBe(200)
    // Unloaded this way, it stays unloaded until loaded again.
    const gone = await generate(QUICK)
    expect(gone.status).toBe(503)
    assertMatchesSchema('ErrorResponse', await gone.json())
    expect((await post(`/v1/models/${MODEL}/load`)).status).toBe(200)
    const again = await generate(QUICK)
    expect(again.status).toBe(200)
    assertMatchesSchema('ImagesResponse', await again.json())
  }, 120_000)

  test('bad requests are 400s in OpenAI’s error shape naming the parameter', async () => {
    for (const [fields, param] of [
      [{ size: '1024x1024' }, 'size'],
      [{ background: 'transparent' }, 'background'],
      [{ sampler: 'nope' }, 'sampler'],
    ] as const) {
      const response = await generate({ ...QUICK, ...fields })
      const body = (await response.json()) as { error: { param: string; message: string } }
      expect([response.status, body.error.param], JSON.stringify(body)).toEqual([400, param])
      assertMatchesSchema('ErrorResponse', body)
    }
    // Nothing was left behind: the model serves.
    expect((await generate(QUICK)).status).toBe(200)
  }, 60_000)
})
