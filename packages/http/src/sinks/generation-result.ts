import type { GenerationEvent, GenerationUsage, ResultFinishReason, TokenLogprob } from '@cy/core'

export interface ResultToolCall {
  id: string
  name: string
  arguments: string
}

/** A generation's events (one choice's) folded into its outcome, for the JSON sinks. */
export class GenerationResult {
  text = ''
  reasoning = ''
  readonly toolCalls: ResultToolCall[] = []
  usage: GenerationUsage | undefined
  /** Set by the `completed` event that ends every generation. */
  finishReason: ResultFinishReason = 'stop'
  /** The generated tokens' logprobs, when the request asked for them. */
  logprobs: TokenLogprob[] | undefined

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
      case 'logprobs':
        ;(this.logprobs ??= []).push(...event.content)
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

/** The choices of a request (`n`), each folded apart: events go to their `choice`; usage and the end to the first. */
export class ChoiceResults {
  readonly choices: GenerationResult[] = [new GenerationResult()]

  add(event: GenerationEvent): void {
    const choice = 'choice' in event ? (event.choice ?? 0) : 0
    while (this.choices.length <= choice) this.choices.push(new GenerationResult())
    this.choices[choice]!.add(event)
    if (event.type === 'completed' && event.choices) {
      event.choices.forEach((reason, i) => {
        while (this.choices.length <= i) this.choices.push(new GenerationResult())
        this.choices[i]!.finishReason = reason
      })
    }
  }
}
