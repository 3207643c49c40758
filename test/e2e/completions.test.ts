import { OutputChunk, type CompletionRequest } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { assertMatchesSchema } from '../support/openapi-validator.ts'
import { recordingClient, sseFrames } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'

let server: Server
let seen: CompletionRequest | undefined

beforeAll(async () => {
  server = await startTestServer({}, (s) =>
    s.registerCompletion('legacy', (req, out) => {
      seen = req
      const prompt = typeof req.prompt === 'string' ? req.prompt : JSON.stringify(req.prompt)
      for (const piece of [' once', ' upon', ' a time']) out.push(OutputChunk.textDelta(piece))
      out.push(OutputChunk.usage(prompt.length, 3))
      out.push(OutputChunk.finish(req.max_tokens === 3 ? 'length' : 'stop'))
      out.end()
    }),
  )
})
afterAll(() => server.stop())

describe('POST /v1/completions', () => {
  test('non-streaming text_completion matches the schema', async () => {
    const { client, last } = recordingClient(server.url)
    const completion = await client.completions.create({ model: 'legacy', prompt: 'Tell me', max_tokens: 3 })
    expect(completion.object).toBe('text_completion')
    expect(completion.choices[0]!.text).toBe(' once upon a time')
    expect(completion.choices[0]!.finish_reason).toBe('length')
    expect(completion.usage).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 })
    expect(seen?.max_tokens).toBe(3)
    assertMatchesSchema('CreateCompletionResponse', JSON.parse((await last()).text))
  })

  test('streamed pieces concatenate to the non-streamed text', async () => {
    const { client, last } = recordingClient(server.url)
    const stream = await client.completions.create({ model: 'legacy', prompt: 'Tell me', stream: true, stream_options: { include_usage: true } })
    let text = ''
    let usage
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? ''
      usage = chunk.usage ?? usage
    }
    expect(text).toBe(' once upon a time')
    expect(usage).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 })
    const frames = sseFrames((await last()).text)
    expect(frames.length).toBe(5)
    // Legacy completions stream the final response's shape, but (like OpenAI itself) with
    // finish_reason null until the last piece, which that shared schema does not allow: check the rest.
    for (const frame of frames as Array<{ choices: Array<{ finish_reason: string | null }> }>) {
      const pieces = frame.choices.map((choice) => ({ ...choice, finish_reason: choice.finish_reason ?? 'stop' }))
      assertMatchesSchema('CreateCompletionResponse', { ...frame, choices: pieces })
    }
    const reasons = (frames as Array<{ choices: Array<{ finish_reason: string | null }> }>).flatMap((f) => f.choices.map((c) => c.finish_reason))
    expect(reasons).toEqual([null, null, null, 'stop'])
  })

  test('echo puts the prompt in front; token-array prompts reach the handler', async () => {
    const { client } = recordingClient(server.url)
    const echoed = await client.completions.create({ model: 'legacy', prompt: 'Tell me', echo: true })
    expect(echoed.choices[0]!.text).toBe('Tell me once upon a time')
    await client.completions.create({ model: 'legacy', prompt: [1, 2, 3] })
    expect(seen?.prompt).toEqual([1, 2, 3])
  })
})
