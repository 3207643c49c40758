import { readFile } from 'node:fs/promises'
import { ClipMergesError } from './clip-merges-error.ts'

/** Lines of CLIP's merges.txt: the `#version` header plus 48894 merges (clip_tokenizer.cpp asserts this count). */
export const CLIP_MERGES_LINES = 48895

/**
 * The merge pairs of stable-diffusion.cpp's `src/tokenizers/vocab/clip_merges.hpp`: a C array of the
 * UTF-8 bytes of merges.txt written as `0x..` literals. Each line but the header is "first second".
 */
export async function readClipMerges(path: string): Promise<Array<[string, string]>> {
  let source: string
  try {
    source = await readFile(path, 'latin1')
  } catch (error) {
    throw new ClipMergesError(`cannot read the CLIP merges file ${path}: ${error instanceof Error ? error.message : String(error)}`)
  }
  const open = source.indexOf('{')
  const close = source.lastIndexOf('}')
  if (open < 0 || close < open) throw new ClipMergesError(`${path} is not a C byte array (no { ... })`)
  const body = source.slice(open + 1, close)
  const bytes = new Uint8Array(body.length / 5 + 1)
  let length = 0
  for (const match of body.matchAll(/0x([0-9a-fA-F]{1,2})/g)) bytes[length++] = Number.parseInt(match[1]!, 16)
  const lines = new TextDecoder().decode(bytes.subarray(0, length)).split('\n')
  // Like sd.cpp's split_utf32, a piece after the last newline is not a line.
  lines.pop()
  if (lines.length !== CLIP_MERGES_LINES) {
    throw new ClipMergesError(`${path} has ${lines.length} lines where CLIP's merges have ${CLIP_MERGES_LINES}`)
  }
  return lines.slice(1).map((line) => {
    const space = line.indexOf(' ')
    // std::string::substr with npos keeps the whole line on both sides.
    return space < 0 ? [line, line] : [line.slice(0, space), line.slice(space + 1)]
  })
}
