import { OutputChannel, type LoadedModel } from '@cy/core'

/** One greedy completion through the model's provider, without HTTP; returns each token's arrival time. */
export async function completionStamps(loaded: LoadedModel, prompt: string, maxTokens: number): Promise<number[]> {
  const channel = new OutputChannel()
  const stamps: number[] = []
  void loaded.providers.completion!({ model: 'bench', prompt, temperature: 0, max_tokens: maxTokens }, channel)
  for await (const chunk of channel) if (chunk.type === 'text-delta') stamps.push(performance.now())
  return stamps
}
