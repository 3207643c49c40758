import { BadRequestError } from '@cy/core'

/**
 * OpenAI's `quality` as sampling steps, relative to the model's default `steps` (D):
 *
 * | quality            | steps        |
 * | ------------------ | ------------ |
 * | low                | round(D / 2) |
 * | medium, standard   | D            |
 * | high, hd           | round(D × 1.5) |
 * | auto, absent       | D            |
 *
 * A distilled model (Turbo, Lightning, LCM: default steps of 4 or fewer) keeps its D: more steps make it
 * worse, not better. An explicit `steps` wins over `quality`.
 */
export const QUALITY_FACTORS: Record<string, number> = { low: 0.5, medium: 1, standard: 1, high: 1.5, hd: 1.5, auto: 1 }

/** Models with default steps up to this are distilled: quality does not change them. */
export const DISTILLED_MAX_STEPS = 4

export function qualitySteps(quality: string | null | undefined, defaultSteps: number): number {
  if (quality === undefined || quality === null) return defaultSteps
  const factor = QUALITY_FACTORS[quality]
  if (factor === undefined) {
    throw new BadRequestError(`Unknown quality '${quality}': use one of ${Object.keys(QUALITY_FACTORS).join(', ')}`, { param: 'quality', code: 'invalid_value' })
  }
  if (defaultSteps <= DISTILLED_MAX_STEPS) return defaultSteps
  return Math.max(1, Math.round(defaultSteps * factor))
}
