import { readClipMerges } from './clip-merges.ts'
import { parsePromptAttention } from './prompt-attention.ts'

export const CLIP_BOS_TOKEN_ID = 49406
export const CLIP_EOS_TOKEN_ID = 49407
const SPECIAL_TOKENS = ['<|startoftext|>', '<|endoftext|>']
const END_OF_WORD = '</w>'
/** Text tokens per 77-token chunk (BOS and EOS take the other two): where BREAK pads to. */
export const CLIP_CHUNK_TOKENS = 75

// The C++ runs over bytes in the "C" locale: ASCII classes only, every byte >= 0x80 is "other".
const WHITESPACE = /[ \t\n\v\f\r]+/g
const EDGE_WHITESPACE = /^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g
const CLIP_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d|[A-Za-z]+|[0-9]|[^ \t\n\v\f\r A-Za-z0-9]+/g
const encoder = new TextEncoder()

/** GPT-2's byte-to-unicode table (bpe_tokenizer.cpp:8), in its order: printable bytes first, the rest from U+0100. */
function bytesToUnicode(): Array<[number, string]> {
  const pairs: Array<[number, string]> = []
  const printable = new Set<number>()
  const add = (from: number, to: number): void => {
    for (let b = from; b <= to; b++) {
      printable.add(b)
      pairs.push([b, String.fromCharCode(b)])
    }
  }
  add(0x21, 0x7e)
  add(161, 172)
  add(174, 255)
  let n = 0
  for (let b = 0; b < 256; b++) if (!printable.has(b)) pairs.push([b, String.fromCharCode(256 + n++)])
  return pairs
}

/**
 * stable-diffusion.cpp's CLIPTokenizer (tokenizers/clip_tokenizer.cpp, bpe_tokenizer.cpp): whitespace cleaned,
 * ASCII lowercased, split by CLIP's pattern, byte-level BPE with `</w>` word ends; ids as openai/clip-vit-large-patch14's.
 */
export class ClipTokenizer {
  private readonly byteEncoder: string[] = []
  private readonly vocab = new Map<string, number>()
  private readonly ranks = new Map<string, number>()
  private readonly cache = new Map<string, number[]>()

  constructor(merges: ReadonlyArray<readonly [string, string]>) {
    const pairs = bytesToUnicode()
    for (const [byte, char] of pairs) this.byteEncoder[byte] = char
    const tokens = [...pairs.map(([, c]) => c), ...pairs.map(([, c]) => c + END_OF_WORD), ...merges.map(([a, b]) => a + b), ...SPECIAL_TOKENS]
    tokens.forEach((token, id) => this.vocab.set(token, id))
    merges.forEach(([a, b], rank) => this.ranks.set(`${a} ${b}`, rank))
  }

  /** The token ids of a text, without BOS, EOS or padding (BPETokenizer::encode). */
  encode(text: string): number[] {
    const ids: number[] = []
    const normalized = normalize(text)
    for (const piece of splitSpecial(normalized)) {
      if (SPECIAL_TOKENS.includes(piece)) {
        ids.push(this.vocab.get(piece)!)
        continue
      }
      for (const word of piece.match(CLIP_PATTERN) ?? []) ids.push(...this.word(word))
    }
    return ids
  }

  /**
   * The text tokens a prompt costs the text encoder, as the conditioner tokenizes it (conditioner.hpp:358): each
   * attention segment encoded on its own, BREAK's padding, BOS, EOS and chunk padding not counted. Throws a
   * 400 BadRequestError (naming `param`) for a weight that would abort sd.cpp, as parsePromptAttention.
   */
  countTokens(prompt: string, param = 'prompt'): number {
    let count = 0
    for (const [text, weight] of parsePromptAttention(prompt, param)) {
      if (text === 'BREAK' && weight === -1) continue
      count += this.encode(text).length
    }
    return count
  }

  private word(latin1Word: string): number[] {
    const cached = this.cache.get(latin1Word)
    if (cached) return cached
    let unicode = ''
    for (let i = 0; i < latin1Word.length; i++) unicode += this.byteEncoder[latin1Word.charCodeAt(i)]
    const ids = this.bpe(unicode).map((part) => this.vocab.get(part) ?? CLIP_EOS_TOKEN_ID)
    if (this.cache.size < 100_000) this.cache.set(latin1Word, ids)
    return ids
  }

  // BPETokenizer::bpe: merge the lowest-ranked adjacent pair until none is ranked.
  private bpe(token: string): string[] {
    let word = [...token]
    word[word.length - 1] += END_OF_WORD
    while (word.length > 1) {
      let best = -1
      let bestRank = Number.POSITIVE_INFINITY
      for (let i = 0; i + 1 < word.length; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`)
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank
          best = i
        }
      }
      if (best < 0) break
      const first = word[best]!
      const second = word[best + 1]!
      const merged: string[] = []
      for (let i = 0; i < word.length; ) {
        if (word[i] === first && i + 1 < word.length && word[i + 1] === second) {
          merged.push(first + second)
          i += 2
        } else merged.push(word[i++]!)
      }
      word = merged
    }
    return word
  }
}

/** whitespace_clean then ASCII tolower, over the UTF-8 bytes (held one per char, latin1-style). */
function normalize(text: string): string {
  let bytes = ''
  const utf8 = encoder.encode(text)
  for (let i = 0; i < utf8.length; i += 8192) bytes += String.fromCharCode(...utf8.subarray(i, i + 8192))
  return bytes.replace(WHITESPACE, ' ').replace(EDGE_WHITESPACE, '').replace(/[A-Z]+/g, (s) => s.toLowerCase())
}

/** split_with_special_tokens (tokenize_util.cpp:950): the text around each special token, and the token. */
function splitSpecial(text: string): string[] {
  const pieces: string[] = []
  let pos = 0
  while (pos < text.length) {
    let next = text.length
    let matched = ''
    for (const token of SPECIAL_TOKENS) {
      const at = text.indexOf(token, pos)
      if (at >= 0 && at < next) {
        next = at
        matched = token
      }
    }
    if (next > pos) pieces.push(text.slice(pos, next))
    if (!matched) break
    pieces.push(matched)
    pos = next + matched.length
  }
  return pieces
}

const loaded = new Map<string, Promise<ClipTokenizer>>()

/** A tokenizer from stable-diffusion.cpp's `clip_merges.hpp` (the build copies it to `<cache>/share/clip_merges.hpp`), parsed once per file. */
export function loadClipTokenizer(mergesFile: string): Promise<ClipTokenizer> {
  let tokenizer = loaded.get(mergesFile)
  if (!tokenizer) {
    tokenizer = readClipMerges(mergesFile).then((merges) => new ClipTokenizer(merges))
    // A failed read is not cached: the file may appear once the engine build has run.
    tokenizer.catch(() => loaded.delete(mergesFile))
    loaded.set(mergesFile, tokenizer)
  }
  return tokenizer
}
