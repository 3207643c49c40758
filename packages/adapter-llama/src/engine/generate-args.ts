/** What the main thread asks the engine Worker to generate. */
export interface GenerateArgs {
  /** The rendered prompt (special tokens in it, from the chat template, are parsed as such), or token ids. */
  prompt: string | number[]
  /** The request field the prompt came from, for errors about it (default `prompt`). */
  promptParam?: 'messages' | 'prompt'
  maxTokens: number | undefined
  temperature: number
  topP: number | undefined
  topK: number | undefined
  minP: number | undefined
  repeatPenalty: number | undefined
  presencePenalty: number | undefined
  frequencyPenalty: number | undefined
  seed: number | undefined
  stop: string[]
  logitBias: Record<string, number> | undefined
  /** A GBNF grammar the output must follow (JSON mode). */
  grammar: string | undefined
  /** Lazy grammar: it applies from where one of these patterns (std::regex) matches the output (the bridge's tool calls). */
  grammarTriggers?: string[]
  /** Choices to generate from the prompt (OpenAI's `n`); they share its cache. Default 1. */
  n?: number
  /** Log-probabilities of the generated tokens with this many alternatives each (0: the token's own only); none when undefined. */
  logprobs?: number
  /** A LoRA adapter of the model's adapters folder, by name (checked by the model before it gets here). */
  adapter?: string
  /** The prompt's images, in the order of their markers in it: `data:` URIs, and the request part each came from. */
  images?: PromptImagePart[]
}

/** An image of a prompt as the engine gets it: decoded there, never on the server's event loop. */
export interface PromptImagePart {
  /** A `data:` URI (the HTTP layer has fetched URLs and read allowed files into these). */
  url: string
  /** The request part, for errors ("messages[0].content[1].image_url.url"). */
  param: string
}

export interface GenerateResult {
  promptTokens: number
  completionTokens: number
  finishReason: 'stop' | 'length' | 'cancelled'
}

export interface EngineInfo {
  description: string
  chatTemplate: string | undefined
  bosToken: string
  eosToken: string
  contextSize: number
  embeddingSize: number
  trainedContext: number
  parameters: number
  devices: string[]
  libDir: string
  /** The text standing for an image in a prompt, when a projector is loaded (random per load, so a client's text cannot forge one). */
  mediaMarker?: string
}

/** How many alternatives a request's logprobs ask for: chat's `logprobs: true` with `top_logprobs`, or completions' `logprobs: <int>`. */
export function requestedLogprobs(request: { logprobs?: unknown; top_logprobs?: unknown }): number | undefined {
  if (typeof request.logprobs === 'number') return request.logprobs
  if (request.logprobs !== true) return undefined
  return typeof request.top_logprobs === 'number' ? request.top_logprobs : 0
}
