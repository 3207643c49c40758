/** What a model can do; each capability is served by its own routes. */
export type Capability = 'chat' | 'completion' | 'embedding' | 'asr' | 'tts' | 'image'

export const CAPABILITIES: readonly Capability[] = ['chat', 'completion', 'embedding', 'asr', 'tts', 'image']

/** Human words for messages ("does not support speech-to-text"). */
export const CAPABILITY_LABELS: Record<Capability, string> = {
  chat: 'chat completions',
  completion: 'text completions',
  embedding: 'embeddings',
  asr: 'speech-to-text',
  tts: 'text-to-speech',
  image: 'image generation',
}
