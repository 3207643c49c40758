/** What the main thread asks the engine Worker to generate. */
export interface GenerateArgs {
  /** The rendered prompt; special tokens in it (from the chat template) are parsed as such. */
  prompt: string
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
}
