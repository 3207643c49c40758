/** The last progress a chunk of build output shows, in percent: make's "[ 40%]" or ninja's "[12/345]". */
export function buildProgress(text: string): number | undefined {
  const last = [...text.matchAll(/\[\s*(\d+)%\]|\[(\d+)\/(\d+)\]/g)].at(-1)
  if (!last) return undefined
  return last[1] !== undefined ? Number(last[1]) : Math.floor((100 * Number(last[2])) / Number(last[3]))
}
