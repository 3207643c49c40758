import type { GenerationEvent } from '@cy/core'

/** Turns generation events into a wire format: text to send for each event (maybe empty), and at the close. */
export interface ResponseSink {
  onEvent(event: GenerationEvent): string
  onClose(): string
}
