import { OutputChunk, type ImageRequest } from '@cy/core'
import type { Server } from '@cy/http'
import { decodeImage, encodeImage, sniffImageFormat } from '@cy/image'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { toFile } from 'openai'
import { assertMatchesSchema } from '../support/openapi-validator.ts'
import { recordingClient } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'

// A scripted image model (the HTTP layer is under test here; test/adapter-sdxl runs the real engine):
// it draws a real 8x8 PNG whose colour is its image index, with one preview per requested partial image.
const png = async (value: number, alpha?: number) =>
  (await encodeImage({ width: 8, height: 8, channels: alpha === undefined ? 3 : 4, data: new Uint8Array(8 * 8 * (alpha === undefined ? 3 : 4)).map((_, i) => (alpha !== undefined && i % 4 === 3 ? alpha : value)) }, 'png')).data
const SUPPORTS = ['n', 'size', 'quality', 'seed', 'negative_prompt', 'steps', 'cfg_scale', 'sampler', 'scheduler', 'clip_skip', 'strength', 'loras', 'image', 'mask', 'input_fidelity']

let server: Server
let seen: ImageRequest | undefined

beforeAll(async () => {
  server = await startTestServer({}, (s) => {
    s.registerImageGeneration(
      'painter',
      async (req, out) => {
        seen = req
        for (let p = 0; p < (req.partial_images ?? 0); p++) out.push(OutputChunk.imagePartial(await png(10 + p), p, { index: 0, mimeType: 'image/png' }))
        for (let i = 0; i < (req.n ?? 1); i++) out.push(OutputChunk.image(await png(100 + i), { index: i, mimeType: 'image/png', revisedPrompt: req.prompt }))
        out.push({ type: 'usage', promptTokens: 5, completionTokens: 16, imageTokens: req.image ? 2 : 0 })
        out.end()
      },
      { supports: { image: SUPPORTS } },
    )
    s.registerImageGeneration('plain', (_req, out) => {
      out.push(OutputChunk.image(new Uint8Array([1])))
      out.end()
    })
  })
})
afterAll(() => server.stop())

/** The SSE events of a raw response body, as [event name, data]. */
function events(text: string): Array<[string, Record<string, unknown>]> {
  return text
    .split('\n\n')
    .filter((frame) => frame.includes('data: '))
    .map((frame) => [/^event: (.*)$/m.exec(frame)?.[1] ?? '', JSON.parse(/^data: (.*)$/m.exec(frame)![1]!)])
}

describe('image generation: OpenAI fields', () => {
  test('output_format jpeg and webp re-encode what the model made; the body says the format, and usage', async () => {
    for (const format of ['jpeg', 'webp'] as const) {
      const { client, last } = recordingClient(server.url)
      const result = await client.images.generate({ model: 'painter', prompt: 'a fox', output_format: format, output_compression: 80, size: '1024x1024', quality: 'high' })
      const bytes = Buffer.from(result.data![0]!.b64_json!, 'base64')
      expect(sniffImageFormat(bytes)).toBe(format)
      expect((await decodeImage(bytes)).width).toBe(8)
      const body = JSON.parse((await last()).text)
      assertMatchesSchema('ImagesResponse', body)
      expect(body).toMatchObject({ output_format: format, background: 'opaque', size: '1024x1024', quality: 'high' })
      expect(body.usage).toEqual({ input_tokens: 5, input_tokens_details: { text_tokens: 5, image_tokens: 0 }, output_tokens: 16, total_tokens: 21 })
    }
  })

  test('stream: partial images, then one completed event per image, each valid against the spec', async () => {
    const { client, last } = recordingClient(server.url)
    const stream = await client.images.generate({ model: 'painter', prompt: 'a fox', stream: true, partial_images: 2, n: 2 })
    const types: string[] = []
    for await (const event of stream) types.push(event.type)
    expect(types).toEqual(['image_generation.partial_image', 'image_generation.partial_image', 'image_generation.completed', 'image_generation.completed'])
    const exchange = await last()
    expect(exchange.contentType).toContain('text/event-stream')
    const sent = events(exchange.text)
    for (const [name, data] of sent) {
      expect(name).toBe(data.type as string)
      assertMatchesSchema(name.endsWith('partial_image') ? 'ImageGenPartialImageEvent' : 'ImageGenCompletedEvent', data)
    }
    expect(sent.map(([, data]) => data.partial_image_index)).toEqual([0, 1, undefined, undefined])
    expect((await decodeImage(Buffer.from(sent[3]![1].b64_json as string, 'base64'))).data[0]).toBe(101)
  })

  test('background transparent is refused for a model that does not declare it', async () => {
    const response = await fetch(`${server.url}/v1/images/generations`, { method: 'POST', body: JSON.stringify({ model: 'plain', prompt: 'x', background: 'transparent' }) })
    expect(response.status).toBe(400)
    const body = await response.json()
    assertMatchesSchema('ErrorResponse', body)
    expect(body.error).toMatchObject({ param: 'background', code: 'unsupported_parameter' })
  })

  test('bad values are 400s naming the field', async () => {
    for (const [field, value] of [['output_format', 'gif'], ['partial_images', 4], ['output_compression', 101], ['quality', 'ultra'], ['loras', [{ weight: 1 }]]] as const) {
      const response = await fetch(`${server.url}/v1/images/generations`, { method: 'POST', body: JSON.stringify({ model: 'painter', prompt: 'x', [field]: value }) })
      expect(response.status).toBe(400)
      expect((await response.json()).error.param).toStartWith(field)
    }
  })
})

describe('POST /v1/images/edits', () => {
  test('multipart through the SDK: image and mask reach the model as bytes; the body matches the spec', async () => {
    const { client, last } = recordingClient(server.url)
    const image = await png(50)
    const mask = await png(0, 0)
    const result = await client.images.edit({
      model: 'painter',
      prompt: 'add a hat',
      image: await toFile(image, 'in.png', { type: 'image/png' }),
      mask: await toFile(mask, 'mask.png', { type: 'image/png' }),
      n: 2,
      output_format: 'webp',
      ...({ strength: 0.4, seed: 7 } as object),
    })
    expect(result.data).toHaveLength(2)
    expect(sniffImageFormat(Buffer.from(result.data![1]!.b64_json!, 'base64'))).toBe('webp')
    const body = JSON.parse((await last()).text)
    assertMatchesSchema('ImagesResponse', body)
    expect(body.usage.input_tokens_details).toEqual({ text_tokens: 3, image_tokens: 2 })
    expect(seen!.image!.map((file) => Array.from(file.bytes))).toEqual([Array.from(image)])
    expect(Array.from(seen!.mask!.bytes)).toEqual(Array.from(mask))
    expect(seen).toMatchObject({ prompt: 'add a hat', n: 2, strength: 0.4, seed: 7 })
  })

  test('several images as image[] keep their order', async () => {
    const { client } = recordingClient(server.url)
    const files = await Promise.all([1, 2, 3].map(async (v) => toFile(await png(v), `${v}.png`, { type: 'image/png' })))
    await client.images.edit({ model: 'painter', prompt: 'combine', image: files })
    expect(seen!.image!.map((file) => file.bytes.length)).toHaveLength(3)
    expect(await Promise.all(seen!.image!.map(async (file) => (await decodeImage(file.bytes)).data[0]))).toEqual([1, 2, 3])
  })

  test('JSON with data URLs; URLs to fetch and file ids are refused', async () => {
    const image = await png(60)
    const url = `data:image/png;base64,${Buffer.from(image).toString('base64')}`
    const post = (body: object) => fetch(`${server.url}/v1/images/edits`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const ok = await post({ model: 'painter', prompt: 'x', images: [{ image_url: url }], mask: { image_url: url } })
    expect(ok.status).toBe(200)
    assertMatchesSchema('ImagesResponse', await ok.json())
    expect(Array.from(seen!.image![0]!.bytes)).toEqual(Array.from(image))
    for (const [images, param] of [[[{ image_url: 'https://example.com/a.png' }], 'images[0]'], [[{ file_id: 'file-1' }], 'images[0]'], [[], 'images']] as const) {
      const refused = await post({ model: 'painter', prompt: 'x', images })
      expect(refused.status).toBe(400)
      const body = await refused.json()
      assertMatchesSchema('ErrorResponse', body)
      expect(body.error.param).toBe(param)
    }
  })

  test('a missing image, a non-file image and bad fields are 400s naming the part', async () => {
    const form = (fill: (f: FormData) => void) => {
      const f = new FormData()
      f.append('model', 'painter')
      f.append('prompt', 'x')
      fill(f)
      return fetch(`${server.url}/v1/images/edits`, { method: 'POST', body: f })
    }
    const cases: Array<[(f: FormData) => void, string]> = [
      [() => {}, 'image'],
      [(f) => f.append('image', 'not a file'), 'image'],
      [(f) => (f.append('image', new File([new Uint8Array(0)], 'a.png')), undefined), 'image'],
      [(f) => (f.append('image', new File([new Uint8Array([1])], 'a.png')), f.append('n', 'eleven')), 'n'],
      [(f) => (f.append('image', new File([new Uint8Array([1])], 'a.png')), f.append('loras', '[{')), 'loras'],
    ]
    for (const [fill, param] of cases) {
      const response = await form(fill)
      expect(response.status).toBe(400)
      const body = await response.json()
      assertMatchesSchema('ErrorResponse', body)
      expect(body.error.param).toBe(param)
    }
  })

  test('a model that does not edit refuses the image instead of ignoring it', async () => {
    const { client } = recordingClient(server.url)
    const error = await client.images.edit({ model: 'plain', prompt: 'x', image: await toFile(await png(1), 'a.png', { type: 'image/png' }) }).catch((e) => e)
    expect(error.status).toBe(400)
    expect(error.error).toMatchObject({ param: 'image', code: 'unsupported_parameter' })
  })

  test('stream: image_edit events valid against the spec', async () => {
    const { client, last } = recordingClient(server.url)
    const stream = await client.images.edit({ model: 'painter', prompt: 'x', image: await toFile(await png(1), 'a.png', { type: 'image/png' }), stream: true, partial_images: 1 })
    const types: string[] = []
    for await (const event of stream) types.push(event.type)
    expect(types).toEqual(['image_edit.partial_image', 'image_edit.completed'])
    for (const [name, data] of events((await last()).text)) assertMatchesSchema(name.endsWith('partial_image') ? 'ImageEditPartialImageEvent' : 'ImageEditCompletedEvent', data)
  })
})
