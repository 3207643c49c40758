/** Reads an integer adapter option, or undefined when absent; anything else below `min` is a clear error. */
export function integerOption(value: unknown, adapter: string, name: string, min: number): number | undefined {
  if (value === undefined) return undefined
  const number = Number(value)
  if (!Number.isInteger(number) || number < min) throw new Error(`${adapter} option '${name}' must be an integer of at least ${min}, not ${JSON.stringify(value)}`)
  return number
}
