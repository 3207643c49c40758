import { OutputChunk, type ChatRequest } from '@cy/core'
import type { ModelRegistrar } from '@cy/http'

/** The weather tool in both APIs' shapes. */
export const WEATHER_TOOL = {
  chat: {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      description: 'The weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' }, units: { type: 'object' } }, required: ['city'] },
    },
  },
  responses: {
    type: 'function' as const,
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' }, units: { type: 'object' } }, required: ['city'] },
    strict: false,
  },
}

const text = (content: ChatRequest['messages'][number]['content']) => (typeof content === 'string' ? content : JSON.stringify(content))

/** Pushes `text` in pieces of `size` characters, as a model streams tokens. */
function streamText(out: { push(chunk: OutputChunk): boolean }, answer: string, size = 3): void {
  for (let i = 0; i < answer.length; i += size) out.push(OutputChunk.textDelta(answer.slice(i, i + size)))
}

/**
 * Scripted models for the gateway's tests (a test double for a model, at the handler boundary: the
 * gateway, bridge and sinks under test are real):
 * - `scripted` answers "turn N: <last user text>", N counting the user turns it was given.
 * - `bridged` has no tool calling of its own (`toolCalls: 'bridge'`): when the prompt describes tools it
 *   writes an XML tool call, in 3-character pieces; given a `<tool_response>` it answers with it.
 * - `native` emits tool-call chunks itself, and answers from the `tool` message.
 */
export function registerScriptedModels(server: ModelRegistrar, seen: (request: ChatRequest) => void = () => {}): void {
  server.registerChat('scripted', (request, out) => {
    seen(request)
    const users = request.messages.filter((m) => m.role === 'user')
    streamText(out, `turn ${users.length}: ${text(users.at(-1)?.content ?? '')}`)
    out.push(OutputChunk.usage(3, 4))
    out.end()
  })
  server.registerChat(
    'bridged',
    (request, out) => {
      seen(request)
      const lastMessage = text(request.messages.at(-1)!.content)
      const response = /<tool_response>\s*([\s\S]*?)\s*<\/tool_response>/.exec(lastMessage)?.[1]
      if (response) {
        const { content } = JSON.parse(response) as { content: string }
        streamText(out, `Paris: ${content}`)
      } else if (request.messages.some((m) => m.role === 'system' && text(m.content).includes('<tools>'))) {
        streamText(out, 'Let me look.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "units": {"temperature": "celsius"}}}\n</tool_call>')
      } else streamText(out, 'no tools')
      out.end()
    },
    { toolCalls: 'bridge' },
  )
  server.registerChat('native', (request, out) => {
    seen(request)
    const last = request.messages.at(-1)!
    if (last.role === 'tool') streamText(out, `Paris: ${text(last.content)}`)
    else if (request.tools?.length) out.push(OutputChunk.toolCall({ callIndex: 0, id: 'call_native_1', name: 'get_weather', arguments: '{"city":"Paris","units":{"temperature":"celsius"}}' }))
    else streamText(out, 'no tools')
    out.end()
  })
}
