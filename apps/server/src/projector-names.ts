/** A quantization or precision suffix of a GGUF name (`-Q4_K_M`, `.f16`, `-IQ2_XXS`, `-UD-Q4_K_XL`, `-bf16`). */
const QUANT = /[-_.](?:f16|f32|bf16|fp16|fp32|q\d+(?:_[a-z0-9]+)*|iq\d+(?:_[a-z0-9]+)*|ud)$/i
/** The projector marker, as a prefix (`mmproj-x`, `mmproj_x`), a suffix (`x-mmproj`) or inside (`x.mmproj-f16`). */
const MMPROJ = /(?:^mmproj(?:[-_.]|$)|[-_.]mmproj(?=[-_.]|$))/gi

/** A model or projector name with its quantization suffixes gone, lower-cased: the part pairing compares. */
export function pairingStem(name: string): string {
  let stem = name.toLowerCase()
  for (let previous = ''; previous !== stem; ) {
    previous = stem
    stem = stem.replace(QUANT, '')
  }
  return stem
}

/** A projector's file stem (no `.gguf`) as the model stem it names, with the `mmproj` affixes gone. */
export function projectorStem(fileStem: string): string {
  return pairingStem(fileStem.replace(MMPROJ, ''))
}
