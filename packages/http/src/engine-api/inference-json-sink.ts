import type { ResponseMeta } from '../encoders/chat-completion.ts'
import { tokenUsage } from '../encoders/token-usage.ts'
import { CompletionJsonSink } from '../sinks/completion-json-sink.ts'

const noEcho = () => ''

/** `POST /api/v1/inference`: a completion's events (one choice) folded into the seed's `text_completion` body. */
export class InferenceJsonSink extends CompletionJsonSink {
  constructor(meta: ResponseMeta) {
    super(meta, noEcho)
  }

  override onClose(): string {
    const { id, model, created } = this.meta
    const { text, finishReason, usage } = this.result.choices[0]!
    // The seed's three counts (cached prompt tokens are /v1's extension).
    const { prompt_tokens, completion_tokens, total_tokens } = tokenUsage(usage)
    return JSON.stringify({
      id,
      modelId: model,
      object: 'text_completion',
      created,
      choices: [{ index: 0, text, finish_reason: finishReason }],
      usage: { prompt_tokens, completion_tokens, total_tokens },
    })
  }
}
