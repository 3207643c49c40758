import type { FinishReason, GenerationEvent, GenerationUsage } from '@cy/core'

export interface ResultToolCall {
  id: string
  name: string
  arguments: string
}

/** A generation's events folded into its outcome, for the JSON sinks. */
export class GenerationResult {
  text = ''
  reasoning = ''
  readonly toolCalls: ResultToolCall[] = []
  usage: GenerationUsage | undefined
  finishReason: FinishReason | undefined

  add(event: GenerationEvent): void {
    switch (event.type) {
      case 'output-text-delta':
        this.text += event.delta
        break
      case 'output-text-done':
        this.text = event.text
        break
      case 'reasoning-delta':
        this.reasoning += event.delta
        break
      case 'tool-call-done':
        this.toolCalls.push({ id: event.id, name: event.name, arguments: event.arguments })
        break
      case 'usage':
        this.usage = event
        break
      case 'completed':
        this.finishReason = event.finishReason
        if (event.usage) this.usage = event.usage
        break
    }
  }
}
