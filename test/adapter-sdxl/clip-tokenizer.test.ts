import { describe, expect, test } from 'bun:test'
import { BadRequestError } from '@cy/core'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { ClipMergesError, loadClipTokenizer, parsePromptAttention } from '../../packages/adapter-sdxl/src/tokenizer/index.ts'

// stable-diffusion.cpp's own merges (the build copies this file to <build>/share/clip_merges.hpp).
const SOURCES = process.env.CY_SD_SRC ?? resolve(import.meta.dir, '../../../shared/vendor/stable-diffusion.cpp')
const MERGES = join(SOURCES, 'src/tokenizers/vocab/clip_merges.hpp')

// Each row: a prompt, the ids CLIPTokenizer::encode gives for it whole, and the text tokens the conditioner's
// tokenize counts (attention segments encoded one by one, BREAK padding, BOS, EOS excluded). Taken from
// stable-diffusion.cpp itself: a C++ harness linked to libstable-diffusion.so calling CLIPTokenizer::encode
// and parse_prompt_attention. The first row is openai/clip-vit-large-patch14's well-known encoding.
const REFERENCE: Array<[string, number[], number]> = [
  ['a photo of a cat', [320, 1125, 539, 320, 2368], 5],
  ['A  Photo\tof a CAT!!', [320, 1125, 539, 320, 2368, 748], 6],
  ['  leading and trailing spaces   ', [3833, 537, 37427, 9006], 4],
  ["it's a dog's life, we'll see; they'd've", [585, 568, 320, 1929, 568, 970, 267, 649, 1342, 862, 282, 889, 1896, 1200], 14],
  ['café ünïcode 日本 emoji 🐱 naïve', [20867, 4166, 47177, 333, 127, 363, 3217, 39121, 19277, 361, 16327, 22979, 1272, 127, 363, 563], 16],
  ['123 4.5 1e10 0x1F', [272, 273, 274, 275, 269, 276, 272, 324, 272, 271, 271, 343, 272, 325], 14],
  ['hello<|endoftext|>world <|STARTOFTEXT|>x', [3306, 49407, 1002, 49406, 343], 5],
  ['astronaut riding a horse, 4k, highly detailed, masterpiece', [18376, 6765, 320, 4558, 267, 275, 330, 267, 5302, 12609, 267, 12066], 12],
  ['an (important) word', [550, 263, 2829, 264, 2653], 3],
  ['a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).', [320, 33287, 1212, 281, 272, 269, 274, 5167, 314, 525, 316, 320, 263, 2682, 281, 271, 269, 276, 2361, 2176, 267, 33287, 2390, 13720, 1818], 10],
  ['(unnecessary)(parens)', [263, 24100, 27956, 3106, 338, 264], 5],
  ['\\(literal\\] and \\\\ back\\slash', [59, 263, 24269, 59, 316, 537, 59, 315, 893, 315, 19749], 10],
  ['(unbalanced', [263, 569, 15273], 2],
  ['first part BREAK second part', [874, 1551, 2568, 2241, 1551], 4],
  ["BREAKfast at tiffany's aBREAK b", [3290, 536, 14446, 568, 22472, 1196, 321], 6],
  ['(a BREAK b) [c BREAK]', [263, 320, 2568, 321, 264, 314, 322, 2568, 316], 5],
  ['a: b : (c:1.2.3) (d:+.5) (e:-1)', [320, 281, 321, 281, 263, 322, 281, 272, 269, 273, 269, 274, 264, 263, 323, 25, 25238, 276, 264, 263, 324, 10323, 272, 264], 7],
  ['word BREAK BREAK word', [2653, 2568, 2568, 2653], 2],
  ['Bob Builds Big Boats', [4423, 16449, 1205, 10080], 4],
  ['supercalifragilisticexpialidocious antidisestablishmentarianism', [1642, 2857, 13093, 2076, 5868, 26850, 835, 639, 38466, 3120, 4262, 7726, 12658, 1585, 44351], 15],
  ['::::(((]]]', [33077, 33077, 22944, 7, 60, 60, 316], 5],
  ['{curly} <angle> |pipe| #hash @at $dollar %percent ^caret &amp *star ~tilde `tick', [346, 20795, 348, 283, 6946, 285, 347, 10459, 347, 258, 19199, 287, 536, 259, 7474, 260, 9017, 317, 2050, 339, 261, 6259, 265, 1565, 349, 6124, 654, 319, 15617], 29],
  ['(masterpiece:1.2), best quality, 1girl, solo, looking at viewer, <lora:foo:0.8>', [263, 12066, 281, 272, 269, 273, 2361, 949, 3027, 267, 272, 1611, 267, 5797, 267, 1312, 536, 15061, 267, 283, 2179, 320, 281, 23435, 281, 271, 269, 279, 285], 24],
  ['', [], 0],
]

describe('ClipTokenizer', () => {
  test('encodes prompts to the ids stable-diffusion.cpp gives them', async () => {
    const tokenizer = await loadClipTokenizer(MERGES)
    for (const [prompt, ids] of REFERENCE) expect({ prompt, ids: tokenizer.encode(prompt) }).toEqual({ prompt, ids })
  })

  test('counts the text tokens the conditioner spends on each prompt (attention segments, BREAK, empty)', async () => {
    const tokenizer = await loadClipTokenizer(MERGES)
    for (const [prompt, , count] of REFERENCE) expect({ prompt, count: tokenizer.countTokens(prompt) }).toEqual({ prompt, count })
    // BREAK pads its chunk with EOS tokens inside the engine: padding is not what the prompt costs.
    expect(tokenizer.countTokens('a BREAK b')).toBe(tokenizer.countTokens('a b'))
    expect(tokenizer.countTokens('   \n\t ')).toBe(0)
  })

  test('matches stable-diffusion.cpp on 4000 generated prompts (ids hashed, counts summed)', async () => {
    const tokenizer = await loadClipTokenizer(MERGES)
    // The generator below fed both implementations; the figures are the C++ harness's output for the same prompts.
    let seed = 12345
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    const atoms = ['a', 'cat', 'Photo', ' ', '  ', '\t', '(', ')', '[', ']', ':', ':1.2)', ':0.5)', '\\(', '\\)', '\\\\', 'BREAK', ' BREAK ', 'B', 'b', "'s", "'ll", "'", ',', '.', '!!', '?', '1', '42', 'é', '日本', '🐱', 'ß', 'Ü', '<|endoftext|>', '<|startoftext|>', 'masterpiece', 'highly', 'detailed', '-', '_', 'x_y', "don't", 'REAK', 'BREAKx', '~', '#', 'ﬁ', '\u00a0', 'İ', 'ÀÉ', '...', ':+2)', ':-0.3)']
    let hash = 0x811c9dc5
    let ids = 0
    let counted = 0
    for (let i = 0; i < 4000; i++) {
      let prompt = ''
      const n = rnd(14)
      for (let j = 0; j < n; j++) prompt += atoms[rnd(atoms.length)]
      for (const id of tokenizer.encode(prompt)) {
        hash = Math.imul(hash ^ id, 0x01000193) >>> 0
        ids++
      }
      counted += tokenizer.countTokens(prompt)
    }
    expect({ hash: hash.toString(16), ids, counted }).toEqual({ hash: 'ad69d853', ids: 37931, counted: 28234 })
  })

  test('parses attention syntax with sd.cpp float32 weights and its quirks', () => {
    // The weights as sd.cpp printed them (%.9g of its floats).
    const f = Math.fround
    expect(parsePromptAttention('a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).')).toEqual([
      ['a ', 1],
      ['house', f(1.57299995)],
      [' ', f(1.10000002)],
      ['on', 1],
      [' a ', f(1.10000002)],
      ['hill', f(0.550000012)],
      [', sun, ', f(1.10000002)],
      ['sky', f(1.46410012)],
      ['.', f(1.10000002)],
    ])
    expect(parsePromptAttention('first BREAK second')).toEqual([['first ', 1], ['BREAK', -1], [' second', 1]])
    // Inside brackets BREAK's marker weight is scaled, so sd.cpp encodes it as the word "break".
    expect(parsePromptAttention('(x BREAK)')).toEqual([['x ', f(1.10000002)], ['BREAK', f(-1.10000002)]])
    expect(parsePromptAttention('')).toEqual([['', 1]])
  })

  test('refuses, as a 400 naming the field, a weight that aborts stable-diffusion.cpp', async () => {
    const tokenizer = await loadClipTokenizer(MERGES)
    // std::stof throws on these (invalid_argument, out_of_range), which ends sd.cpp's process.
    for (const prompt of ['(a:.)', '(a:..5)', '(a:350000000000000000000000000000000000000)', '(a:0.00000000000000000000000000000000000001)']) {
      const error = (() => {
        try {
          tokenizer.countTokens(prompt, 'negative_prompt')
        } catch (caught) {
          return caught
        }
      })()
      expect(error).toBeInstanceOf(BadRequestError)
      expect((error as BadRequestError).param).toBe('negative_prompt')
    }
    // stof reads only with a bracket open; these are fine there and here.
    expect(tokenizer.countTokens('a:.) b')).toBe(2)
    expect(tokenizer.countTokens('(a:5.)')).toBe(1)
  })

  test('parses a merges file once, and says clearly when one is missing or malformed', async () => {
    expect(loadClipTokenizer(MERGES)).toBe(loadClipTokenizer(MERGES))
    const dir = mkdtempSync(join(tmpdir(), 'cy-clip-'))
    const missing = join(dir, 'absent.hpp')
    await expect(loadClipTokenizer(missing)).rejects.toBeInstanceOf(ClipMergesError)
    const short = join(dir, 'short.hpp')
    writeFileSync(short, 'static const unsigned char clip_merges_utf8_c_str[] = {\n0x23,0x76,0x0a,0x61,0x20,0x62,0x0a,\n};\n')
    await expect(loadClipTokenizer(short)).rejects.toThrow(/has 2 lines where CLIP's merges have 48895/)
    const garbage = join(dir, 'garbage.hpp')
    writeFileSync(garbage, 'not a C array')
    await expect(loadClipTokenizer(garbage)).rejects.toThrow(ClipMergesError)
    // A failed load is not cached: the file may appear later.
    writeFileSync(missing, await Bun.file(MERGES).text())
    expect((await loadClipTokenizer(missing)).encode('a photo of a cat')).toEqual([320, 1125, 539, 320, 2368])
  })
})
