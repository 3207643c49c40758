import { OutputChunk, type CompletionRequest } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { assertMatchesSchema } from '../support/openapi-validator.ts'
import { recordingClient, sseFrames } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'

let server: Server
let seen: CompletionRequest | undefined

beforeAll(async () => {
  server = await startTestServer({}, (s) => {
    s.registerCompletion('legacy', (req, out) => {
      seen = req
      const prompt = typeof req.prompt === 'string' ? req.prompt : JSON.stringify(req.prompt)
      for (const piece of [' once', ' upon', ' a time']) out.push(OutputChunk.textDelta(piece))
      out.push(OutputChunk.usage(prompt.length, 3))
      out.push(OutputChunk.finish(req.max_tokens === 3 ? 'length' : 'stop'))
      out.end()
    })
    // Declares `n` and logprobs: each choice says ' x' and ' yz', a token each, with two alternatives.
    s.registerCompletion(
      'choices',
      (req, out) => {
        for (let index = 0; index < (req.n ?? 1); index++) {
          for (const token of [' x', ' yz']) {
            const bytes = [...new TextEncoder().encode(token)]
            if (req.logprobs != null) out.push(OutputChunk.logprobs([{ token, logprob: -1, bytes, top: [{ token, logprob: -1, bytes }, { token: '!', logprob: -2, bytes: [33] }] }], index))
            out.push(OutputChunk.textDelta(token, index))
          }
          out.push(OutputChunk.finish('stop', index))
        }
        out.push(OutputChunk.usage(2, 2 * (req.n ?? 1)))
        out.end()
      },
      { supports: { completion: ['n', 'logprobs', 'max_tokens'] } },
    )
  })
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
  test.each([
    [{ n: 2 }, 'n'],
    [{ logprobs: 0 }, 'logprobs'],
    [{ suffix: 'the end' }, 'suffix'],
  ])('a field the model does not declare is a 400 unsupported_parameter: %j', async (fields, param) => {
    const response = await fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'legacy', prompt: 'x', ...fields }),
    })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { error: { param: string; code: string } }
    assertMatchesSchema('ErrorResponse', body)
    expect(body.error).toMatchObject({ param, code: 'unsupported_parameter' })
  })

  test('a model that declares its fields is refused the ones it leaves out (temperature here)', async () => {
    const response = await fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'choices', prompt: 'x', temperature: 0.5 }),
    })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe('temperature')
  })

  test('n choices with logprobs: the legacy shape, JSON (echo included) and SSE', async () => {
    const { client, last } = recordingClient(server.url)
    const whole = await client.completions.create({ model: 'choices', prompt: 'Say', n: 2, logprobs: 2, echo: true })
    assertMatchesSchema('CreateCompletionResponse', JSON.parse((await last()).text))
    expect(whole.choices.map((choice) => [choice.index, choice.text])).toEqual([
      [0, 'Say x yz'],
      [1, 'Say x yz'],
    ])
    expect(whole.choices[1]!.logprobs).toEqual({ tokens: [' x', ' yz'], token_logprobs: [-1, -1], top_logprobs: [{ ' x': -1, '!': -2 }, { ' yz': -1, '!': -2 }], text_offset: [3, 5] })
    expect(whole.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 4 })

    const stream = await client.completions.create({ model: 'choices', prompt: 'Say', n: 2, logprobs: 1, stream: true })
    const texts = ['', '']
    const offsets: number[][] = [[], []]
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        texts[choice.index] += choice.text
        offsets[choice.index]!.push(...(choice.logprobs?.text_offset ?? []))
      }
    }
    // finish_reason is null until a choice's last piece, which the shared schema does not allow (see above).
    for (const frame of sseFrames((await last()).text) as Array<{ choices: Array<{ finish_reason: string | null }> }>) {
      assertMatchesSchema('CreateCompletionResponse', { ...frame, choices: frame.choices.map((choice) => ({ ...choice, finish_reason: choice.finish_reason ?? 'stop' })) })
    }
    expect(texts).toEqual([' x yz', ' x yz'])
    expect(offsets).toEqual([
      [0, 2],
      [0, 2],
    ])
  })
})
