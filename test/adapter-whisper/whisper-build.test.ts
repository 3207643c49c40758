import { describe, expect, test } from 'bun:test'
import { buildProgress } from '../../packages/adapter-whisper/src/library/engine-build.ts'

describe('building whisper.cpp says how far it is', () => {
  test("make's and ninja's progress lines are read; the last one in a chunk counts", () => {
    expect(buildProgress('[  4%] Building C object ggml/src/ggml.c.o\n[ 12%] Building CXX object src/whisper.cpp.o\n')).toBe(12)
    expect(buildProgress('[3/60] Building C object a.o\n[30/60] Linking CXX shared library libwhisper.so\n')).toBe(50)
    expect(buildProgress('-- Configuring done\n')).toBeUndefined()
  })
})
