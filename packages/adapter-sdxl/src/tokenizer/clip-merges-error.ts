/** A CLIP merges file that is not stable-diffusion.cpp's `clip_merges.hpp` (missing, or not its 48895 lines). */
export class ClipMergesError extends Error {
  override readonly name = 'ClipMergesError'
}
