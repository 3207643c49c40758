import type { GenerationEvent, ResultFinishReason } from '@cy/core'
import type { ResponseMeta } from '../encoders/chat-completion.ts'
import { chatLogprobs } from '../encoders/logprobs.ts'
import { sseData } from '../sse/sse-frame.ts'
import { ChoiceStreamSink } from './choice-stream-sink.ts'

/** Chat completions, streaming: `chat.completion.chunk` frames, the first of each choice with the role. */
export class ChatSseSink extends ChoiceStreamSink {
  readonly #tail: string
  /** Per choice: whether its first frame (with the role) went out. */
  readonly #roleSent: boolean[] = []

  constructor(meta: ResponseMeta, includeUsage: boolean) {
    super(meta, 'chat.completion.chunk', includeUsage)
    this.#tail = includeUsage ? ',"usage":null}' : '}'
  }

  protected contentFrame(event: GenerationEvent): string {
    switch (event.type) {
      case 'output-text-delta':
        return this.#delta(event.choice ?? 0, `"content":${JSON.stringify(event.delta)}`)
      case 'reasoning-delta':
        return this.#delta(event.choice ?? 0, `"reasoning_content":${JSON.stringify(event.delta)}`)
      case 'tool-call-done':
        return this.#delta(
          event.choice ?? 0,
          `"tool_calls":${JSON.stringify([{ index: event.index, id: event.id, type: 'function', function: { name: event.name, arguments: event.arguments } }])}`,
        )
      default:
        return ''
    }
  }

  protected finishFrame(choice: number, reason: ResultFinishReason): string {
    const role = this.#roleSent[choice] ? '' : '"role":"assistant","content":""'
    this.#roleSent[choice] = true
    return this.#frame(choice, role, `"${reason}"`)
  }

  #delta(choice: number, fields: string): string {
    const role = this.#roleSent[choice] ? '' : '"role":"assistant",'
    this.#roleSent[choice] = true
    return this.#frame(choice, role + fields, 'null')
  }

  #frame(choice: number, delta: string, finishReason: string): string {
    const pending = this.takeLogprobs(choice)
    const logprobs = pending ? JSON.stringify(chatLogprobs(pending)) : 'null'
    return sseData(`${this.head}"choices":[{"index":${choice},"delta":{${delta}},"logprobs":${logprobs},"finish_reason":${finishReason}}]${this.#tail}`)
  }
}
