import { OutputChunk, type EmbeddingRequest } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { assertMatchesSchema } from '../support/openapi-validator.ts'
import { recordingClient } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'

/** A deterministic 4-dimensional embedding of a text, unit length. */
function embed(text: string): number[] {
  const raw = [text.length, text.charCodeAt(0) || 1, 3, 4]
  const norm = Math.hypot(...raw)
  return raw.map((value) => value / norm)
}

let server: Server

beforeAll(async () => {
  server = await startTestServer({}, (s) =>
    s.registerEmbedding('vec', (req: EmbeddingRequest, out) => {
      const inputs = typeof req.input === 'string' ? [req.input] : (req.input as unknown[]).map((item) => String(item))
      inputs.forEach((input, index) => out.push(OutputChunk.embedding(index, Float32Array.from(embed(input)))))
      out.push(OutputChunk.usage(inputs.join('').length, 0))
      out.end()
    }),
  )
})
afterAll(() => server.stop())

describe('POST /v1/embeddings', () => {
  test('float: one vector per input, in order, matching the schema', async () => {
    const { client, last } = recordingClient(server.url)
    const result = await client.embeddings.create({ model: 'vec', input: ['a', 'hello'], encoding_format: 'float' })
    expect(result.data.map((item) => item.index)).toEqual([0, 1])
    const expected = [embed('a'), embed('hello')]
    result.data.forEach((item, i) => expected[i]!.forEach((value, j) => expect(item.embedding[j]!).toBeCloseTo(value, 6)))
    expect(result.usage).toEqual({ prompt_tokens: 6, total_tokens: 6 })
    const exchange = await last()
    assertMatchesSchema('CreateEmbeddingResponse', JSON.parse(exchange.text))
    expect(JSON.parse(exchange.text).data[0].embedding).toBeArray()
  })

  test('base64: the wire carries little-endian float32 bytes, and the SDK decodes them', async () => {
    const { client, last } = recordingClient(server.url)
    // The SDK asks for base64 by default and decodes it.
    const result = await client.embeddings.create({ model: 'vec', input: 'hello' })
    const wire = JSON.parse((await last()).text)
    expect(typeof wire.data[0].embedding).toBe('string')
    const bytes = Buffer.from(wire.data[0].embedding, 'base64')
    const decoded = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)
    expect(Array.from(decoded)).toEqual(Array.from(Float32Array.from(embed('hello'))))
    expect(result.data[0]!.embedding).toEqual(Array.from(decoded))
  })

  test('dimensions shortens each vector and keeps it unit length', async () => {
    const { client } = recordingClient(server.url)
    const result = await client.embeddings.create({ model: 'vec', input: 'hello', dimensions: 2, encoding_format: 'float' })
    const vector = result.data[0]!.embedding
    expect(vector.length).toBe(2)
    expect(Math.hypot(...vector)).toBeCloseTo(1, 5)
    const full = embed('hello')
    expect(vector[0]! / vector[1]!).toBeCloseTo(full[0]! / full[1]!, 5)
  })
})
