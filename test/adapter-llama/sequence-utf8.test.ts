import { describe, expect, test } from 'bun:test'
import type { Pointer } from 'bun:ffi'
import { Sequence } from '../../packages/adapter-llama/src/engine/sequence.ts'
import { greedyArgs, recordingSink } from './engine-doubles.ts'

describe('a sequence turns token bytes into text deltas', () => {
  test('a character split across tokens is sent whole, never as a broken piece', async () => {
    const out = recordingSink()
    const sequence = new Sequence(Int32Array.of(1, 2), greedyArgs(), out, () => 0 as unknown as Pointer)
    const fox = new TextEncoder().encode('a🦊b')
    for (const byte of fox) sequence.accept(0, Uint8Array.of(byte), false)
    sequence.accept(0, new Uint8Array(), true)
    const deltas = out.chunks.filter((c) => c.type === 'text-delta').map((c) => (c as { text: string }).text)
    expect(deltas).toEqual(['a', '🦊', 'b'])
    expect(out.chunks.at(-1)).toEqual({ type: 'finish', reason: 'stop' })
    expect(await sequence.finished).toEqual({ promptTokens: 2, completionTokens: fox.length, finishReason: 'stop' })
  })

  test('max tokens ends with length and usage counts real tokens', async () => {
    const out = recordingSink()
    const sequence = new Sequence(Int32Array.of(1, 2, 3), greedyArgs({ maxTokens: 2 }), out, () => 0 as unknown as Pointer)
    expect(sequence.accept(0, Uint8Array.of(104), false)).toBe(false)
    expect(sequence.accept(0, Uint8Array.of(105), false)).toBe(true)
    expect(out.chunks).toEqual([
      { type: 'text-delta', text: 'h' },
      { type: 'text-delta', text: 'i' },
      { type: 'usage', promptTokens: 3, completionTokens: 2, totalTokens: 5, cachedTokens: 0 },
      { type: 'finish', reason: 'length' },
    ])
  })
})
