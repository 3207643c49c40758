import { OutputChunk, type ImageRequest } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { assertMatchesSchema } from '../support/openapi-validator.ts'
import { recordingClient } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'

/** Bytes that stand in for a PNG: the route treats images as opaque bytes. */
const image = (n: number) => new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, n])
let server: Server
let shortLived: Server
let seen: ImageRequest | undefined

const draw = (s: Server) =>
  s.registerImageGeneration('painter', async (req, out) => {
    seen = req
    const count = req.n ?? 1
    for (let i = 0; i < count; i++) {
      out.push(OutputChunk.progress((i + 0.5) / count, 'sampling'))
      out.push(OutputChunk.image(image(i), { index: i }))
    }
    out.end()
  })

beforeAll(async () => {
  server = await startTestServer({}, draw)
  shortLived = await startTestServer({ imageUrlTtlMs: 1 }, draw)
})
afterAll(async () => {
  await server.stop()
  await shortLived.stop()
})

describe('POST /v1/images/generations', () => {
  test('b64_json: n images, matching the schema; extensions reach the handler', async () => {
    const { client, last } = recordingClient(server.url)
    const result = await client.images.generate({
      model: 'painter',
      prompt: 'a fox',
      n: 2,
      size: '256x256',
      response_format: 'b64_json',
      // Extensions go through the SDK's pass-through of unknown body fields.
      ...({ seed: 42, negative_prompt: 'blurry', steps: 4, cfg_scale: 7.5 } as object),
    })
    expect(result.data?.map((item) => Array.from(Buffer.from(item.b64_json!, 'base64')))).toEqual([Array.from(image(0)), Array.from(image(1))])
    assertMatchesSchema('ImagesResponse', JSON.parse((await last()).text))
    expect(seen).toMatchObject({ prompt: 'a fox', n: 2, size: '256x256', seed: 42, negative_prompt: 'blurry', steps: 4, cfg_scale: 7.5 })
  })

  test('url: links this server serves with the image bytes', async () => {
    const { client, last } = recordingClient(server.url)
    const result = await client.images.generate({ model: 'painter', prompt: 'a fox', response_format: 'url' })
    const url = result.data![0]!.url!
    expect(url.startsWith(`${server.url}/v1/images/files/`)).toBe(true)
    // The link's id is 128 random bits: knowing the URL is the permission, so it must not be guessable.
    expect(url.slice(`${server.url}/v1/images/files/`.length)).toMatch(/^[0-9a-f]{32}(\.[a-z]+)?$/)
    assertMatchesSchema('ImagesResponse', JSON.parse((await last()).text))
    const fetched = await fetch(url)
    expect(fetched.headers.get('content-type')).toBe('image/png')
    expect(Array.from(new Uint8Array(await fetched.arrayBuffer()))).toEqual(Array.from(image(0)))
  })

  test('an expired or unknown link is an OpenAI-shaped 404', async () => {
    const { client } = recordingClient(shortLived.url)
    const result = await client.images.generate({ model: 'painter', prompt: 'a fox', response_format: 'url' })
    await Bun.sleep(5)
    const expired = await fetch(result.data![0]!.url!)
    expect(expired.status).toBe(404)
    assertMatchesSchema('ErrorResponse', await expired.json())
    const unknown = await fetch(`${server.url}/v1/images/files/${'0'.repeat(32)}.png`)
    expect(unknown.status).toBe(404)
  })
})
