import { t } from 'elysia'
import { Usage } from './usage.ts'

const FinishReason = t.Union([t.Literal('stop'), t.Literal('length'), t.Literal('tool_calls'), t.Literal('content_filter')])

const TokenAlternative = { token: t.String(), logprob: t.Number(), bytes: t.Union([t.Array(t.Integer()), t.Null()]) }

/** Chat's per-token logprobs (`logprobs: true`, `top_logprobs`). */
const ChatLogprobs = t.Object({
  content: t.Union([t.Array(t.Object({ ...TokenAlternative, top_logprobs: t.Array(t.Object(TokenAlternative)) })), t.Null()]),
  refusal: t.Union([t.Array(t.Object({ ...TokenAlternative, top_logprobs: t.Array(t.Object(TokenAlternative)) })), t.Null()]),
})

/** Legacy completions' logprobs (`logprobs: <int>`): parallel lists per generated token. */
const CompletionLogprobs = t.Object({
  tokens: t.Array(t.String()),
  token_logprobs: t.Array(t.Number()),
  top_logprobs: t.Array(t.Record(t.String(), t.Number())),
  text_offset: t.Array(t.Integer()),
})

const ToolCall = t.Object({
  id: t.String(),
  type: t.Literal('function'),
  function: t.Object({ name: t.String(), arguments: t.String() }),
})

export const ChatCompletion = t.Object(
  {
    id: t.String(),
    object: t.Literal('chat.completion'),
    created: t.Integer(),
    model: t.String(),
    choices: t.Array(
      t.Object({
        index: t.Integer(),
        message: t.Object({
          role: t.Literal('assistant'),
          content: t.Union([t.String(), t.Null()]),
          refusal: t.Null(),
          tool_calls: t.Optional(t.Array(ToolCall)),
          reasoning_content: t.Optional(t.String()),
        }),
        logprobs: t.Union([ChatLogprobs, t.Null()]),
        finish_reason: FinishReason,
      }),
    ),
    usage: t.Optional(Usage),
  },
  { description: 'A chat completion. With `stream: true` the body is instead SSE `chat.completion.chunk` frames ending in `data: [DONE]`.' },
)

export const CompletionBody = t.Object(
  {
    id: t.String(),
    object: t.Literal('text_completion'),
    created: t.Integer(),
    model: t.String(),
    choices: t.Array(
      t.Object({ index: t.Integer(), text: t.String(), logprobs: t.Union([CompletionLogprobs, t.Null()]), finish_reason: t.Union([t.Literal('stop'), t.Literal('length'), t.Literal('content_filter')]) }),
    ),
    usage: t.Optional(Usage),
  },
  { description: 'A text completion; streamed as SSE frames of the same shape.' },
)
