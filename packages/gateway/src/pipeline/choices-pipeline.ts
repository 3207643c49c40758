import type { GenerationEvent, OutputChunk, ResultFinishReason } from '@cy/core'
import { GenerationPipeline, type PipelineOptions } from './generation-pipeline.ts'

/** Chunk types that say which choice they belong to (`index`); the rest belong to the first. */
const PER_CHOICE = new Set<OutputChunk['type']>(['text-delta', 'final-text', 'reasoning-delta', 'finish', 'logprobs'])

/** An event of one choice, tagged with it (request-wide events are left as they are). */
function tag(event: GenerationEvent, choice: number): GenerationEvent {
  switch (event.type) {
    case 'output-text-delta':
    case 'output-text-done':
    case 'reasoning-delta':
    case 'tool-call-done':
    case 'logprobs':
      return { ...event, choice }
    default:
      return event
  }
}

/**
 * `n` > 1: one pipeline per choice (each with its own sanitizer, tool bridge and validation), chunks
 * routed by their `index`, events tagged with their `choice`. The request's usage comes once (the
 * handler reports it once) and a single `completed` ends the whole, with each choice's reason.
 */
export class ChoicesPipeline extends GenerationPipeline {
  readonly #choices: GenerationPipeline[]

  constructor(options: PipelineOptions, n: number) {
    super(options)
    this.#choices = Array.from({ length: n }, () => new GenerationPipeline(options))
  }

  override push(chunks: OutputChunk[]): GenerationEvent[] {
    const events: GenerationEvent[] = []
    for (const chunk of chunks) {
      const choice = PER_CHOICE.has(chunk.type) ? ((chunk as { index?: number }).index ?? 0) : 0
      const pipeline = this.#choices[choice] ?? this.#choices[0]!
      for (const event of pipeline.push([chunk])) events.push(tag(event, choice))
    }
    return events
  }

  override end(): GenerationEvent[] {
    const events: GenerationEvent[] = []
    const reasons: ResultFinishReason[] = []
    let completed: GenerationEvent | undefined
    this.#choices.forEach((pipeline, choice) => {
      for (const event of pipeline.end()) {
        if (event.type !== 'completed') events.push(tag(event, choice))
        else {
          reasons.push(event.finishReason)
          completed ??= event
        }
      }
    })
    events.push({ ...(completed as Extract<GenerationEvent, { type: 'completed' }>), choices: reasons })
    return events
  }
}
