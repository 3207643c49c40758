import { describe, expect, test } from 'bun:test'
import type { Pointer } from 'bun:ffi'
import type { MediaChunk } from '../../packages/adapter-llama/src/native/mtmd-native.ts'
import { MediaPrompt } from '../../packages/adapter-llama/src/vision/media-prompt.ts'

// The scheduler's view of a prompt with images (no engine needed: chunks are plain values here).
const chunk = (kind: 'text' | 'image', nTokens: number, extra: Partial<MediaChunk> = {}): MediaChunk => ({
  kind,
  pointer: 0 as unknown as Pointer,
  nTokens,
  nPos: nTokens,
  ...(kind === 'text' ? { tokens: Int32Array.from({ length: nTokens }, (_, i) => 100 + i) } : {}),
  ...extra,
})
const keys = new Map<string, number>()
const key = (id: string) => keys.get(id) ?? (keys.set(id, -1 - keys.size), keys.get(id)!)

describe('MediaPrompt', () => {
  test('keys: text tokens as they are, each image entry the image’s own negative number', () => {
    const prompt = new MediaPrompt([chunk('text', 2), chunk('image', 3, { id: 'a' }), chunk('text', 1), chunk('image', 2, { id: 'b' }), chunk('image', 1, { id: 'a' })], key, () => {})
    expect([...prompt.keys]).toEqual([100, 101, -1, -1, -1, 100, -2, -2, -1])
    expect([...prompt.images.keys()]).toEqual([2, 6, 8])
  })

  test('a reused prefix never ends inside an image', () => {
    const prompt = new MediaPrompt([chunk('text', 2), chunk('image', 4, { id: 'a' }), chunk('text', 3)], key, () => {})
    expect(prompt.reusable(1)).toBe(1)
    expect(prompt.reusable(2)).toBe(2)
    expect(prompt.reusable(3)).toBe(2)
    expect(prompt.reusable(5)).toBe(2)
    expect(prompt.reusable(6)).toBe(6)
  })

  test('positions follow entries, less what M-RoPE images take fewer of', () => {
    const plain = new MediaPrompt([chunk('text', 2), chunk('image', 4, { id: 'a' }), chunk('text', 3)], key, () => {})
    expect([0, 2, 6, 8].map((i) => plain.positionOf(i))).toEqual([0, 2, 6, 8])
    // An image of 4 embeddings over 2 positions (Qwen2-VL's 2D positions): text after it is 2 positions earlier.
    const mrope = new MediaPrompt([chunk('text', 2), chunk('image', 4, { id: 'a', nPos: 2 }), chunk('text', 3), chunk('image', 6, { id: 'b', nPos: 3 }), chunk('text', 1)], key, () => {})
    expect([0, 2, 6, 8, 9, 15].map((i) => mrope.positionOf(i))).toEqual([0, 2, 4, 6, 7, 10])
  })
})
