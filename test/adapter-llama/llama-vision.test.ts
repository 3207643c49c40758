import createLlamaAdapter from '@cy/adapter-llama'
import type { LoadedModel } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions'
import { startMtmdReference, type MtmdReference, type ReferenceMessage } from '../fixtures/llama/reference-mtmd.ts'
import { tinyImage, tinyImageDataUri } from '../fixtures/llama/tiny-images.ts'
import { tinyVisionFixture } from '../fixtures/llama/tiny-vision.ts'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { startTestServer } from '../support/test-server.ts'

// Vision through libmtmd (built from node-llama-cpp's llama.cpp sources against the prebuilt libllama),
// on the tiny random-weight projector: compared with llama.cpp's own multimodal path, llama-server --mmproj.
const fixture = tinyVisionFixture()
const media = mkdtempSync(join(tmpdir(), 'cy-vision-media-'))
let reference: MtmdReference
let vision: LoadedModel
let textOnly: LoadedModel
let server: Server
let client: OpenAI

beforeAll(async () => {
  writeFileSync(join(media, 'split.png'), (await tinyImage('split')).data)
  const adapter = createLlamaAdapter({ quiet: true })
  ;[reference, vision, textOnly] = await Promise.all([
    startMtmdReference({ model: fixture.model, mmproj: fixture.mmproj }),
    adapter.load({ name: 'vision', adapter: 'llama', path: fixture.model, options: { mmproj: fixture.mmproj, threads: 2, parallel: 2 } }),
    adapter.load({ name: 'text', adapter: 'llama', path: await writeTinyLlama(join(media, 'text.gguf')), options: { threads: 1, parallel: 1 } }),
  ])
  server = await startTestServer({ media: { allowedDirs: [media] } }, (s) => {
    s.registerModel('vision', vision.providers, { metadata: vision.metadata })
    s.registerModel('text', textOnly.providers, { metadata: textOnly.metadata })
  })
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none', maxRetries: 0 })
}, 120_000)
afterAll(async () => {
  await server?.stop()
  await Promise.all([vision?.dispose(), textOnly?.dispose(), reference?.stop()])
  rmSync(media, { recursive: true, force: true })
})

const MAX_TOKENS = 16

async function ours(messages: ChatCompletionMessageParam[], model = 'vision') {
  const result = await client.chat.completions.create({ model, messages, temperature: 0, max_tokens: MAX_TOKENS })
  return { text: result.choices[0]!.message.content!, usage: result.usage! }
}

const imagePart = (url: string): ChatCompletionContentPart => ({ type: 'image_url', image_url: { url } })
const userWith = (...content: ChatCompletionContentPart[]): ChatCompletionMessageParam[] => [{ role: 'user', content }]

describe('vision chat through libmtmd', () => {
  test('equals llama-server --mmproj on the same model and image, text and prompt tokens', async () => {
    for (const name of ['split', 'checker'] as const) {
      const messages = userWith({ type: 'text', text: 'What is this?' }, imagePart(await tinyImageDataUri(name)))
      const [mine, theirs] = await Promise.all([ours(messages), reference.chat({ messages: messages as ReferenceMessage[], max_tokens: MAX_TOKENS })])
      expect(mine.text).toBe(theirs.text)
      expect(mine.text.length).toBeGreaterThan(0)
      expect(mine.usage.prompt_tokens).toBe(theirs.promptTokens)
    }
  })

  test('equals llama-server with two images in a message and text around them, and across turns', async () => {
    const split = await tinyImageDataUri('split')
    const gradient = await tinyImageDataUri('gradient')
    const conversations: ChatCompletionMessageParam[][] = [
      userWith({ type: 'text', text: 'Compare' }, imagePart(split), { type: 'text', text: 'and' }, imagePart(gradient), { type: 'text', text: 'briefly.' }),
      [
        { role: 'system', content: 'You look at pictures.' },
        { role: 'user', content: [imagePart(gradient), { type: 'text', text: 'What is it?' }] },
        { role: 'assistant', content: 'A gradient.' },
        { role: 'user', content: [{ type: 'text', text: 'And this one?' }, imagePart(split)] },
      ],
    ]
    for (const messages of conversations) {
      const [mine, theirs] = await Promise.all([ours(messages), reference.chat({ messages: messages as ReferenceMessage[], max_tokens: MAX_TOKENS })])
      expect(mine.text).toBe(theirs.text)
      expect(mine.usage.prompt_tokens).toBe(theirs.promptTokens)
    }
  })

  test('greedy text is the same for the same image and differs for a different one', async () => {
    const ask = async (name: 'split' | 'checker') => (await ours(userWith({ type: 'text', text: 'Describe.' }, imagePart(await tinyImageDataUri(name))))).text
    const first = await ask('split')
    expect(await ask('split')).toBe(first)
    expect(await ask('checker')).not.toBe(first)
  })

  test('an image counts its tokens in usage.prompt_tokens', async () => {
    const text = await ours([{ role: 'user', content: 'What is this?' }])
    const withImage = await ours(userWith({ type: 'text', text: 'What is this?' }, imagePart(await tinyImageDataUri('split'))))
    // The projector makes (32 / 8)² = 16 embeddings of an image, each an entry of the context.
    expect(withImage.usage.prompt_tokens - text.usage.prompt_tokens).toBe(16)
  })

  test('the same image as a data URI and as a file in an allowed folder gives the same answer', async () => {
    const fromUri = await ours(userWith({ type: 'text', text: 'Look.' }, imagePart(await tinyImageDataUri('split'))))
    const fromFile = await ours(userWith({ type: 'text', text: 'Look.' }, imagePart(join(media, 'split.png'))))
    expect(fromFile.text).toBe(fromUri.text)
  })

  test('a conversation that resends its image reuses the cached embeddings', async () => {
    const messages = userWith({ type: 'text', text: 'Once more:' }, imagePart(await tinyImageDataUri('gradient')))
    await ours(messages)
    const again = await client.chat.completions.create({ model: 'vision', messages, temperature: 0, max_tokens: 4 })
    // All of the prompt but its last token (decoded again for its output row) comes from the slot's cache: the image too.
    expect(again.usage!.prompt_tokens_details?.cached_tokens).toBe(again.usage!.prompt_tokens - 1)
  })

  test('streams an answer about an image, the same text as without streaming', async () => {
    const messages = userWith({ type: 'text', text: 'Stream it.' }, imagePart(await tinyImageDataUri('checker')))
    const whole = await ours(messages)
    let streamed = ''
    for await (const chunk of await client.chat.completions.create({ model: 'vision', messages, temperature: 0, max_tokens: MAX_TOKENS, stream: true })) {
      streamed += chunk.choices[0]?.delta.content ?? ''
    }
    expect(streamed).toBe(whole.text)
  })

  test('the Responses API reads input_image parts the same way', async () => {
    const url = await tinyImageDataUri('gradient')
    const chat = await ours(userWith({ type: 'text', text: 'What is this?' }, imagePart(url)))
    const response = await client.responses.create({
      model: 'vision',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'What is this?' }, { type: 'input_image', image_url: url, detail: 'auto' }] }],
      temperature: 0,
      max_output_tokens: MAX_TOKENS,
    })
    expect(response.output_text).toBe(chat.text)
    expect(response.usage!.input_tokens).toBe(chat.usage.prompt_tokens)
  })

  test('bytes that are not an image are a 400 naming the part', async () => {
    const error = await ours(userWith({ type: 'text', text: 'x' }, imagePart(`data:image/png;base64,${Buffer.from('not a picture').toString('base64')}`))).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages[0].content[1].image_url.url')
  })

  test('a text-only model answers an image part with a clear 400', async () => {
    const error = await ours(userWith({ type: 'text', text: 'x' }, imagePart(await tinyImageDataUri('split'))), 'text').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect((error as Error).message).toContain('text only')
  })

  test('the model says it reads images', () => {
    expect(vision.metadata).toMatchObject({ vision: true, projector: fixture.mmproj })
    expect(textOnly.metadata).toMatchObject({ vision: false })
  })
})
