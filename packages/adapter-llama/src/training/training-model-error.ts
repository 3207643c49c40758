/** A base model llama.cpp's optimizer cannot train: quantized or F16 weights (it updates F32 tensors only), or no model at all. */
export class TrainingModelError extends Error {
  override readonly name = 'TrainingModelError'
}
