import { afterAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LLAMA_CPP_VERSION } from '../../packages/adapter-llama/src/library/llama-version.ts'
import { builtTrainingLibrary, trainingLibraryChoice } from '../../packages/adapter-llama/src/library/training-library.ts'

// Which llama.cpp the training engine loads: an explicit folder, the environment's, the native build
// (`engines:build llama-training`) once it is complete for the pinned version, else inference's.
const dir = mkdtempSync(join(tmpdir(), 'cy-training-library-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the training library', () => {
  test('a native build counts only when its stamp names the pinned version and its libllama is there', () => {
    const bin = join(dir, 'build', 'bin')
    expect(builtTrainingLibrary(dir)).toBeUndefined()
    mkdirSync(bin, { recursive: true })
    writeFileSync(join(dir, 'training-library.json'), JSON.stringify({ version: LLAMA_CPP_VERSION }))
    // A build that stopped before its libraries.
    expect(builtTrainingLibrary(dir)).toBeUndefined()
    writeFileSync(join(bin, process.platform === 'darwin' ? 'libllama.dylib' : 'libllama.so'), '')
    expect(builtTrainingLibrary(dir)).toBe(bin)
    writeFileSync(join(dir, 'training-library.json'), JSON.stringify({ version: '0.0.1' }))
    expect(builtTrainingLibrary(dir)).toBeUndefined()
  })

  test('the option wins, then CY_LLAMA_TRAINING_LIB_DIR, then the native build; none of them: inference’s (undefined)', () => {
    const built = () => '/built'
    expect(trainingLibraryChoice('/option', '/env', built)).toBe('/option')
    expect(trainingLibraryChoice(undefined, '/env', built)).toBe('/env')
    expect(trainingLibraryChoice('', '', built)).toBe('/built')
    expect(trainingLibraryChoice(undefined, undefined, () => undefined)).toBeUndefined()
  })
})
