import { describe, expect, test } from 'bun:test'
import {
  classifyTag,
  ctcGreedy,
  decodeSenseVoice,
  readTokens,
  TokensFileError,
  wordsFromTokens,
} from '../../packages/adapter-sensevoice/src/decode/index.ts'

/** Logits [frames × vocab] whose argmax per frame is `ids[t]`. */
function logitsFor(ids: number[], vocab: number): Float32Array {
  const logits = new Float32Array(ids.length * vocab).fill(-1)
  ids.forEach((id, t) => (logits[t * vocab + id] = 5))
  return logits
}

const PIECES = [
  '<blank>', '<s>', '</s>', '<|en|>', '<|zh|>', '<|NEUTRAL|>', '<|HAPPY|>', '<|Speech|>', '<|BGM|>', '<|withitn|>',
  '<|woitn|>', '▁hello', '▁wor', 'ld', '.', '你好', '世', '界', '<0xE4>', '<0xB8>', '<0x96>', '<|EMO_UNKNOWN|>', '▁', ',',
]
const id = (piece: string) => {
  const at = PIECES.indexOf(piece)
  if (at < 0) throw new Error(piece)
  return at
}
const hit = (piece: string, frame: number) => ({ id: id(piece), frame })
/** Hits at consecutive frames starting at 0. */
const hitsOf = (...pieces: string[]) => pieces.map((piece, frame) => ({ id: id(piece), frame }))

describe('readTokens', () => {
  test('piece id per line; a line holding only an id is the piece " "', () => {
    const pieces = readTokens('<blank> 0\n<s> 1\r\n 2\n▁the 3\n\n<0x41> 5\n')
    expect(pieces[0]).toBe('<blank>')
    expect(pieces[1]).toBe('<s>')
    expect(pieces[2]).toBe(' ')
    expect(pieces[3]).toBe('▁the')
    expect(pieces[4]).toBeUndefined()
    expect(pieces[5]).toBe('<0x41>')
    expect(pieces).toHaveLength(6)
  })

  test('malformed lines are errors naming the line', () => {
    expect(() => readTokens('a 0\nb c 1\n')).toThrow(TokensFileError)
    expect(() => readTokens('a 0\nb x\n')).toThrow(/line 2/)
    expect(() => readTokens('a 0\nb 0\n')).toThrow(/appears twice/)
    try {
      readTokens('a -1')
    } catch (error) {
      expect(TokensFileError.isInstance(error)).toBe(true)
    }
  })
})

describe('ctcGreedy', () => {
  test('argmax per frame, blanks and repeats dropped, a repeat across a blank kept', () => {
    const logits = logitsFor([0, 3, 3, 0, 0, 4, 0, 4, 4, 5, 3], 6)
    expect(ctcGreedy(logits, 11, 6, 0)).toEqual([
      { id: 3, frame: 1 },
      { id: 4, frame: 5 },
      { id: 4, frame: 7 },
      { id: 5, frame: 9 },
      { id: 3, frame: 10 },
    ])
  })

  test('blank_id from the metadata, not assumed 0', () => {
    expect(ctcGreedy(logitsFor([2, 0, 2, 1], 3), 4, 3, 2)).toEqual([
      { id: 0, frame: 1 },
      { id: 1, frame: 3 },
    ])
  })

  test('a banned id never wins: the runner-up is taken (ban_emo_unk)', () => {
    const logits = logitsFor([1, 2], 4)
    logits[4 + 3] = 4
    expect(ctcGreedy(logits, 2, 4, 0)).toEqual([
      { id: 1, frame: 0 },
      { id: 2, frame: 1 },
    ])
    expect(ctcGreedy(logits, 2, 4, 0, [2])).toEqual([
      { id: 1, frame: 0 },
      { id: 3, frame: 1 },
    ])
  })

  test('logits shorter than frames × vocab are refused', () => {
    expect(() => ctcGreedy(new Float32Array(5), 2, 3, 0)).toThrow(RangeError)
  })
})

describe('rich tags', () => {
  test('tags map to plain names by set membership', () => {
    expect(classifyTag('<|yue|>')).toEqual({ kind: 'language', value: 'yue' })
    expect(classifyTag('<|SURPRISED|>')).toEqual({ kind: 'emotion', value: 'surprised' })
    expect(classifyTag('<|Laughter|>')).toEqual({ kind: 'event', value: 'Laughter' })
    expect(classifyTag('<|woitn|>')).toEqual({ kind: 'itn', value: false })
    expect(classifyTag('hello')).toBeUndefined()
  })

  test('all four tags, then text', () => {
    const result = decodeSenseVoice(hitsOf('<|en|>', '<|NEUTRAL|>', '<|Speech|>', '<|withitn|>', '▁hello', '▁wor', 'ld', '.'), PIECES)
    expect(result).toMatchObject({ language: 'en', emotion: 'neutral', event: 'Speech', itn: true, text: 'hello world.' })
    expect(result.rawText).toBe('<|en|><|NEUTRAL|><|Speech|><|withitn|> hello world.')
  })

  test('a missing emotion tag does not shift the event into its place', () => {
    // CTC merged or blanked the emotion: sherpa-onnx would call <|Speech|> the emotion and <|withitn|> the event.
    const result = decodeSenseVoice(hitsOf('<|zh|>', '<|Speech|>', '<|withitn|>', '你好'), PIECES)
    expect(result.language).toBe('zh')
    expect(result.emotion).toBeUndefined()
    expect(result.event).toBe('Speech')
    expect(result.itn).toBe(true)
    expect(result.text).toBe('你好')
  })

  test('tags in another order, and a tag after the text, stay out of the text', () => {
    const result = decodeSenseVoice(hitsOf('<|BGM|>', '<|en|>', '<|HAPPY|>', '▁hello', '<|Speech|>', '.'), PIECES)
    expect(result).toMatchObject({ language: 'en', emotion: 'happy', event: 'BGM', text: 'hello.' })
    expect(result.itn).toBeUndefined()
    expect(result.rawText).toBe('<|BGM|><|en|><|HAPPY|> hello<|Speech|>.')
  })

  test('no tags at all: everything is text', () => {
    const plain = decodeSenseVoice(hitsOf('▁hello', '.'), PIECES)
    expect(plain.text).toBe('hello.')
    expect(plain.language).toBeUndefined()
    expect(decodeSenseVoice([], PIECES)).toEqual({ text: '', rawText: '', tokens: [], words: [] })
  })

  test('an id outside tokens.txt is an error, not silent text loss', () => {
    expect(() => decodeSenseVoice([{ id: 99, frame: 4 }], PIECES)).toThrow(/99/)
  })
})

describe('text, timestamps and words', () => {
  test('token start = (frame − 4) × 60 ms, ▁ becomes a space, text trimmed', () => {
    const hits = [
      hit('<|en|>', 0),
      hit('<|NEUTRAL|>', 1),
      hit('<|Speech|>', 2),
      hit('<|woitn|>', 3),
      hit('▁hello', 5),
      hit('▁wor', 9),
      hit('ld', 11),
    ]
    const result = decodeSenseVoice(hits, PIECES, { end: 1 })
    expect(result.text).toBe('hello world')
    expect(result.tokens).toEqual([
      { text: ' hello', start: 0.06 },
      { text: ' wor', start: 0.3 },
      { text: 'ld', start: 0.42 },
    ])
    expect(result.words).toEqual([
      { word: 'hello', start: 0.06, end: 0.3 },
      { word: 'world', start: 0.3, end: 1 },
    ])
    expect(result.itn).toBe(false)
  })

  test('without an end, the last word lasts one frame', () => {
    const result = decodeSenseVoice([hit('▁hello', 6)], PIECES)
    expect(result.words).toEqual([{ word: 'hello', start: 0.12, end: 0.18 }])
  })

  test('byte-fallback pieces merge into UTF-8 at the first byte’s time', () => {
    const hits = [
      hit('世', 4),
      hit('<0xE4>', 6),
      hit('<0xB8>', 7),
      hit('<0x96>', 8),
      hit('界', 10),
    ]
    const result = decodeSenseVoice(hits, PIECES, { end: 0.5 })
    expect(result.text).toBe('世世界')
    expect(result.tokens).toEqual([
      { text: '世', start: 0 },
      { text: '世', start: 0.12 },
      { text: '界', start: 0.36 },
    ])
    expect(result.words.map((w) => w.word)).toEqual(['世', '世', '界'])
  })

  test('an incomplete byte sequence decodes to U+FFFD, not a crash', () => {
    const result = decodeSenseVoice([hit('<0xE4>', 4), hit('.', 5)], PIECES)
    expect(result.text).toBe('\uFFFD.')
  })

  test('CJK characters are words of their own, even inside one piece; punctuation stays attached', () => {
    const hits = [
      hit('你好', 4),
      hit(',', 8),
      hit('世', 9),
      hit('界', 10),
      hit('▁hello', 12),
    ]
    const result = decodeSenseVoice(hits, PIECES, { end: 1.2 })
    expect(result.text).toBe('你好,世界 hello')
    expect(result.words).toEqual([
      { word: '你', start: 0, end: 0.12 },
      { word: '好,', start: 0.12, end: 0.3 },
      { word: '世', start: 0.3, end: 0.36 },
      { word: '界', start: 0.36, end: 0.48 },
      { word: 'hello', start: 0.48, end: 1.2 },
    ])
  })

  test('a bare ▁ piece separates words', () => {
    expect(wordsFromTokens([{ text: 'ab', start: 0 }, { text: ' ', start: 0.1 }, { text: 'cd', start: 0.2 }], 0.3)).toEqual([
      { word: 'ab', start: 0, end: 0.2 },
      { word: 'cd', start: 0.2, end: 0.3 },
    ])
  })
})
