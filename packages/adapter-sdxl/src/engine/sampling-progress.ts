/**
 * The steps the sampler reports for a request: `steps`, or for img2img (an init image, strength below 1)
 * the tail of the schedule stable-diffusion.cpp keeps (stable-diffusion.cpp:4945: t_enc = steps × strength,
 * one less when that is all of them, then t_enc + 1 steps run). The progress callback also reports tensor
 * loading and VAE tiles; a report whose `steps` is this one is sampling.
 */
export function samplingSteps(steps: number, strength: number, img2img: boolean): number {
  if (!img2img || strength >= 1) return steps
  let kept = Math.floor(steps * strength)
  if (kept === steps) kept--
  return kept + 1
}

/**
 * The sampling steps after which a preview is sent: `count` of them spread evenly over `steps` (before
 * the last one, which is the image itself). The library previews every step; the rest are dropped.
 */
export function previewSteps(steps: number, count: number): Set<number> {
  const picked = new Set<number>()
  for (let k = 1; k <= count; k++) picked.add(Math.max(1, Math.round((steps * k) / (count + 1))))
  return picked
}
