import { BadRequestError } from '@cy/core'

/** Token ids from a request as a prompt or input: integers of the vocabulary, else a 400 naming `param`. */
export function checkTokenIds(ids: number[], vocabSize: number, param: string): Int32Array {
  if (ids.length === 0) throw new BadRequestError(`\`${param}\` has no tokens`, { param })
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new BadRequestError(`Token id ${id} in \`${param}\` is not in this model's vocabulary (ids 0 to ${vocabSize - 1})`, { param })
    }
  }
  return Int32Array.from(ids)
}

/** `logit_bias` as OpenAI defines it: keys are token ids of the vocabulary, values from -100 to 100. */
export function checkLogitBias(bias: Record<string, number> | undefined, vocabSize: number): void {
  for (const [key, value] of Object.entries(bias ?? {})) {
    const id = /^\d+$/.test(key) ? Number(key) : NaN
    if (!(id < vocabSize)) {
      throw new BadRequestError(`logit_bias key '${key}' is not a token id of this model's vocabulary (0 to ${vocabSize - 1})`, { param: 'logit_bias' })
    }
    if (typeof value !== 'number' || !(value >= -100 && value <= 100)) {
      throw new BadRequestError(`logit_bias for token ${key} is ${value}; it must be a number from -100 to 100`, { param: 'logit_bias' })
    }
  }
}
