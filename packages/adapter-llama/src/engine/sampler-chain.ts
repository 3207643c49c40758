import { BadRequestError } from '@cy/core'
import { cstr } from '@cy/native'
import { ptr, type Pointer } from 'bun:ffi'
import type { LlamaNative } from '../native/llama-native.ts'
import type { GenerateArgs } from './generate-args.ts'

const PENALTY_WINDOW = 64

/**
 * A llama.cpp sampler chain for one request, in llama.cpp's own order: logit bias, penalties, grammar,
 * then greedy (temperature 0) or top-k, top-p, min-p, temperature and a seeded draw.
 */
export function samplerChain(native: LlamaNative, vocab: Pointer, vocabSize: number, args: GenerateArgs): Pointer {
  const s = native.calls
  const parts: Array<Pointer | null> = []
  const bias = Object.entries(args.logitBias ?? {})
  if (bias.length > 0) {
    // struct llama_logit_bias { int32 token; float bias; }
    const view = new DataView(new ArrayBuffer(bias.length * 8))
    bias.forEach(([token, value], i) => {
      view.setInt32(i * 8, Number(token), true)
      view.setFloat32(i * 8 + 4, value, true)
    })
    parts.push(s.llama_sampler_init_logit_bias(vocabSize, bias.length, ptr(new Uint8Array(view.buffer))))
  }
  if (args.repeatPenalty !== undefined || args.presencePenalty || args.frequencyPenalty) {
    parts.push(s.llama_sampler_init_penalties(vocabSize, PENALTY_WINDOW, args.repeatPenalty ?? 1, args.frequencyPenalty ?? 0, args.presencePenalty ?? 0))
  }
  if (args.grammar) {
    const grammar = args.grammarTriggers?.length ? lazyGrammar(native, vocab, args.grammar, args.grammarTriggers) : s.llama_sampler_init_grammar(vocab, cstr(args.grammar), cstr('root'))
    if (!grammar) {
      for (const part of parts) if (part) s.llama_sampler_free(part)
      throw new BadRequestError('The response format could not be turned into a grammar', { param: 'response_format' })
    }
    parts.push(grammar)
  }
  if (args.temperature <= 0) {
    parts.push(s.llama_sampler_init_greedy())
  } else {
    if (args.topK !== undefined && args.topK > 0) parts.push(s.llama_sampler_init_top_k(args.topK))
    if (args.topP !== undefined && args.topP < 1) parts.push(s.llama_sampler_init_top_p(args.topP, 1))
    if (args.minP !== undefined && args.minP > 0) parts.push(s.llama_sampler_init_min_p(args.minP, 1))
    parts.push(s.llama_sampler_init_temp(args.temperature))
    parts.push(s.llama_sampler_init_dist(args.seed ?? (Math.random() * 0xffffffff) >>> 0))
  }
  return native.samplerChain(parts)
}

/** A grammar that waits for one of `triggers` (regexes over the output so far) before it constrains. */
function lazyGrammar(native: LlamaNative, vocab: Pointer, grammar: string, triggers: string[]): Pointer | null {
  const texts = triggers.map(cstr)
  const pointers = new BigUint64Array(texts.map((text) => BigInt(ptr(text))))
  return native.calls.llama_sampler_init_grammar_lazy_patterns(vocab, cstr(grammar), cstr('root'), ptr(pointers), texts.length, null, 0)
}
