import { OutputChunk, type ChatRequest } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestServer } from '../support/test-server.ts'

// The seed's Lite mode on /v1: scripted chat models (test doubles at the handler boundary) that answer
// with their own name; the route, the defaults and the dispatcher under test are the real ones.
let server: Server
const seen: ChatRequest[] = []
const answering = (name: string) => (request: ChatRequest, out: { push(chunk: OutputChunk): boolean; end(): void }) => {
  seen.push(request)
  out.push(OutputChunk.textDelta(name))
  out.push(OutputChunk.finish('stop'))
  out.end()
}

beforeAll(async () => {
  server = await startTestServer({ defaultModel: 'beta' }, (s) => {
    s.registerChat('alpha', answering('alpha'))
    s.registerChat('beta', answering('beta'))
    s.registerCompletion('text-only', (_request, out) => out.end())
  })
})
afterAll(() => server.stop())

const chat = (body: Record<string, unknown>) =>
  fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: '你好' }], ...body }) })
const answerOf = async (response: Response) => {
  expect(response.status).toBe(200)
  const body = await response.json()
  return { model: body.model, text: body.choices[0].message.content }
}

describe('Lite defaults on /v1/chat/completions', () => {
  test('without model, or with "default", the configured default model answers', async () => {
    expect(await answerOf(await chat({}))).toEqual({ model: 'beta', text: 'beta' })
    expect(await answerOf(await chat({ model: 'default' }))).toEqual({ model: 'beta', text: 'beta' })
    expect(await answerOf(await chat({ model: 'alpha' }))).toEqual({ model: 'alpha', text: 'alpha' })
  })

  test('with no default set: the only chat model, else the usual 400 naming model', async () => {
    server.setDefaultModel(null)
    try {
      const ambiguous = await chat({})
      expect(ambiguous.status).toBe(400)
      expect((await ambiguous.json()).error).toMatchObject({ type: 'invalid_request_error', param: 'model', code: 'invalid_value' })
      server.unregisterModel('alpha')
      // A completion-only model does not count: beta is the only chat model.
      expect(await answerOf(await chat({}))).toEqual({ model: 'beta', text: 'beta' })
    } finally {
      server.registerChat('alpha', answering('alpha'))
      server.setDefaultModel('beta')
    }
  })

  test('a model named "default" is itself', async () => {
    server.registerChat('default', answering('the-default'))
    try {
      expect(await answerOf(await chat({ model: 'default' }))).toEqual({ model: 'default', text: 'the-default' })
    } finally {
      server.unregisterModel('default')
    }
  })

  test('repetition_penalty reaches the model as repeat_penalty', async () => {
    seen.length = 0
    await answerOf(await chat({ model: 'alpha', repetition_penalty: 1.15 }))
    expect(seen[0]!.repeat_penalty).toBe(1.15)
    expect('repetition_penalty' in seen[0]!).toBe(false)
    await answerOf(await chat({ model: 'alpha', repetition_penalty: 1.2, repeat_penalty: 1.2 }))
    expect(seen[1]!.repeat_penalty).toBe(1.2)
  })

  test('repetition_penalty and repeat_penalty that differ, or a bad value, are 400s naming it', async () => {
    const differ = await chat({ model: 'alpha', repetition_penalty: 1.2, repeat_penalty: 1.1 })
    expect(differ.status).toBe(400)
    expect((await differ.json()).error).toMatchObject({ param: 'repetition_penalty', type: 'invalid_request_error' })
    const negative = await chat({ model: 'alpha', repetition_penalty: -1 })
    expect(negative.status).toBe(400)
    expect((await negative.json()).error.param).toBe('repetition_penalty')
  })

  test('GET /health keeps answering {"status":"ok", ...}', async () => {
    const response = await fetch(`${server.url}/health`)
    expect(response.status).toBe(200)
    expect((await response.json()).status).toBe('ok')
  })
})
