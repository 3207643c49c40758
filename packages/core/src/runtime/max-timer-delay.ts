/** Timers take at most 2^31-1 ms and fire at once past it: longer waits are clamped to this. */
export const MAX_TIMER_MS = 2 ** 31 - 1
