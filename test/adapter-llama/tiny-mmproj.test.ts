import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MEDIA_MARKER, startMtmdReference, type MtmdReference, type ReferenceMessage } from '../fixtures/llama/reference-mtmd.ts'
import { tinyImageDataUri, type TinyImageName } from '../fixtures/llama/tiny-images.ts'
import { writeTinyMmproj } from '../fixtures/llama/tiny-mmproj.ts'
import { tinyVisionFixture } from '../fixtures/llama/tiny-vision.ts'

// The fixture pair on llama.cpp's own multimodal path (llama-server --mmproj): the projector loads, images
// steer greedy text, and each image costs (32 / 8)² = 16 prompt tokens (the `mlp` projector adds no
// begin/end tokens around them).
const IMAGE_TOKENS = 16

const fixture = tinyVisionFixture()
let server: MtmdReference

beforeAll(async () => {
  server = await startMtmdReference({ model: fixture.model, mmproj: fixture.mmproj })
})
afterAll(async () => {
  await server?.stop()
})

const ask = async (image: TinyImageName | null, format: 'png' | 'jpeg' = 'png'): Promise<ReferenceMessage[]> => [
  { role: 'user', content: image ? [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: await tinyImageDataUri(image, format) } }] : 'What is this?' },
]

describe('the tiny projector on llama-server --mmproj', () => {
  test('greedy text for an image is the same twice and differs for another image', async () => {
    const first = await server.chat({ messages: await ask('split'), max_tokens: 24 })
    const again = await server.chat({ messages: await ask('split'), max_tokens: 24 })
    const other = await server.chat({ messages: await ask('checker'), max_tokens: 24 })
    expect(first.completionTokens).toBe(24)
    expect(again.text).toBe(first.text)
    expect(other.text).not.toBe(first.text)
    // Clearly different: apart within the first few tokens, not only at the end.
    expect(other.text.slice(0, 6)).not.toBe(first.text.slice(0, 6))
  })

  test('each image adds 16 prompt tokens, whatever its size and format', async () => {
    const text = await server.chat({ messages: await ask(null), max_tokens: 1 })
    for (const [image, format] of [['split', 'png'], ['gradient', 'png'], ['checker', 'jpeg']] as const) {
      const withImage = await server.chat({ messages: await ask(image, format), max_tokens: 1 })
      expect(withImage.promptTokens).toBe(text.promptTokens + IMAGE_TOKENS)
    }
  })

  test('the template sees each image as a marker, glued to the text parts; text parts are joined by a newline', async () => {
    const image = { type: 'image_url', image_url: { url: await tinyImageDataUri('gradient') } } as const
    const prompt = await server.renderPrompt([
      { role: 'user', content: [{ type: 'text', text: 'One' }, { type: 'text', text: 'two' }, image, { type: 'text', text: 'three' }, image] },
    ])
    expect(prompt).toBe(`<|im_start|>user\nOne\ntwo${MEDIA_MARKER}three${MEDIA_MARKER}<|im_end|>\n<|im_start|>assistant\n`)
  })
})

test('a projector whose width is not the text model’s is refused at load', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cy-mmproj-'))
  try {
    const mmproj = await writeTinyMmproj(join(dir, 'mmproj-narrow.gguf'), { textEmbedding: 32 })
    await expect(startMtmdReference({ model: fixture.model, mmproj })).rejects.toThrow(/mismatch between text model \(n_embd = 64\) and mmproj \(n_embd = 32\)/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
