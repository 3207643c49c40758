import { randomInt } from 'node:crypto'

/**
 * A seed for a request that gives none, picked here rather than by the library (whose -1 seeds from the
 * clock): so the seed of every image is known and can be logged or returned. Below 2^31 so seed + b of a
 * batch stays a safe, positive integer everywhere.
 */
export function randomSeed(): number {
  return randomInt(0, 2 ** 31 - 16)
}
