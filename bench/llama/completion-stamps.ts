import { OutputChannel, type LoadedModel } from '@cy/core'

/** One greedy completion through the model's provider, without HTTP; returns each token's arrival time. `adapter`: a LoRA adapter's name. */
export async function completionStamps(loaded: LoadedModel, prompt: string, maxTokens: number, adapter?: string): Promise<number[]> {
  const channel = new OutputChannel()
  const stamps: number[] = []
  void loaded.providers.completion!({ model: 'bench', prompt, temperature: 0, max_tokens: maxTokens, ...(adapter ? { adapter } : {}) }, channel)
  for await (const chunk of channel) if (chunk.type === 'text-delta') stamps.push(performance.now())
  return stamps
}
