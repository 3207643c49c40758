import { withReference } from '../fixtures/llama/reference-llama.ts'
import type { ReferenceLora } from '../fixtures/llama/reference-lora.ts'

/**
 * llama.cpp's own greedy loop, written plainly: one sequence, one token per llama_decode, its greedy
 * sampler. The reference the adapter's output (batched, streamed, through HTTP) must equal. `loras`: LoRA
 * adapters llama.cpp applies, each at its scale; `threads` (default 2) does not change the text, only the time.
 */
export function referenceGreedy(libDir: string, modelPath: string, prompt: string, maxTokens: number, options: { loras?: readonly ReferenceLora[]; threads?: number } = {}): string {
  return withReference(libDir, modelPath, { contextSize: 512, sequences: 1, threads: options.threads ?? 2, loras: options.loras }, ({ native, context, vocab, greedy, prefill }) => {
    const sampler = greedy()
    let { length: position, token } = prefill(prompt, sampler)
    const bytes: number[] = []
    for (let i = 0; i < maxTokens; i++) {
      if (native.calls.llama_vocab_is_eog(vocab, token)) break
      bytes.push(...native.tokenBytes(vocab, token, false))
      if (i === maxTokens - 1) break
      if (native.decode(context, Int32Array.of(token), Int32Array.of(position++), Int32Array.of(0), Int8Array.of(1), 1) !== 0) throw new Error('decode failed')
      token = native.calls.llama_sampler_sample(sampler, context, 0)
    }
    return new TextDecoder().decode(new Uint8Array(bytes))
  })
}

/** The prompt the tiny llama's ChatML template renders for `messages`, ready for the assistant's turn. */
export function chatmlPrompt(messages: readonly { role: string; content: string }[]): string {
  return `${messages.map((message) => `<|im_start|>${message.role}\n${message.content}<|im_end|>\n`).join('')}<|im_start|>assistant\n`
}
