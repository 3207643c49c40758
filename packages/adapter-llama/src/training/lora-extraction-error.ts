/** LoRA extraction refused its inputs: a missing or mismatched tensor, a quantized one, a bad rank or alpha. */
export class LoraExtractionError extends Error {
  override readonly name = 'LoraExtractionError'
}
